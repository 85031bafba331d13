"""A conversation on disk: ``<persistence_dir>/<id>/state.json`` and ``events.jsonl``.

Each event is appended, flushed and fsynced before anyone is told of it, so the file is
the conversation: a crash loses at most the step in flight. state.json is replaced
atomically (write a temporary file, fsync, rename), so it is always one whole version.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from pydantic import ValidationError

from agent.conversation.state import ConversationSummary, PersistedState
from agent.events import Event, parse_event

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
EVENTS_FILE = "events.jsonl"


def default_persistence_dir() -> Path:
    """Where conversations live: the user data directory of "berth" / conversations."""
    import platformdirs

    return Path(platformdirs.user_data_dir("berth", appauthor=False)) / "conversations"


def resolve_persistence_dir(persistence_dir: str | os.PathLike[str] | None) -> Path:
    return Path(persistence_dir) if persistence_dir is not None else default_persistence_dir()


class PersistenceError(OSError):
    """The conversation's folder cannot be written (full, read-only, gone). Nothing already
    recorded is lost; the sentence says what to do."""

    def __init__(self, folder: Path, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        super().__init__(
            exc.errno,
            f"Berth cannot write the conversation to {folder} ({reason}). The conversation "
            "is paused and nothing already recorded is lost: free some space or make the "
            "folder writable, then resume.",
        )

    def __str__(self) -> str:
        return str(self.strerror)


class ConversationStore:
    """The folder of one conversation. Thread-safe appends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_path = folder / STATE_FILE
        self.events_path = folder / EVENTS_FILE
        self._append_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._events_fd: int | None = None

    def exists(self) -> bool:
        """Saved before: a state.json, or events without one (rebuilt on load_state)."""
        return self.state_path.exists() or self.events_path.exists()

    def create(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PersistenceError(self.folder, exc) from exc
        # The folder holds the history of someone's work: not for other users to read.
        with contextlib.suppress(OSError):
            os.chmod(self.folder, 0o700)

    # --- events ----------------------------------------------------------------------------

    def append(self, event: Event) -> None:
        """One whole line, fsynced, or nothing: a short or failed write (a full disk) is cut
        back off, so the next append never glues onto half an event."""
        line = (event.model_dump_json() + "\n").encode("utf-8")
        with self._append_lock:
            try:
                if self._events_fd is None:
                    self._events_fd = os.open(
                        self.events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
                    )
                fd = self._events_fd
                start = os.fstat(fd).st_size
                try:
                    written = 0
                    while written < len(line):
                        written += os.write(fd, line[written:])
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)
                        os.fsync(fd)
                    raise
            except OSError as exc:
                raise PersistenceError(self.folder, exc) from exc

    def load_events(self) -> list[Event]:
        """Every event on disk. A torn last line (a crash mid-write) is dropped."""
        if not self.events_path.exists():
            return []
        events: list[Event] = []
        with open(self.events_path, "rb") as handle:
            lines = handle.read().split(b"\n")
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                events.append(parse_event(raw))
            except ValidationError:
                if number >= len(lines) - 1:
                    log.warning("dropping a torn last line of %s", self.events_path)
                    self._truncate_torn_tail()
                else:
                    log.warning("skipping unreadable line %d of %s", number, self.events_path)
        return events

    def _truncate_torn_tail(self) -> None:
        """Cut a partial last line so the next append starts on a fresh line."""
        data = self.events_path.read_bytes()
        keep = data.rfind(b"\n") + 1
        with open(self.events_path, "r+b") as handle:
            handle.truncate(keep)

    # --- state -----------------------------------------------------------------------------

    def save_state(self, state: PersistedState) -> None:
        data = state.model_dump_json(indent=2)
        with self._state_lock:
            try:
                fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".tmp", dir=self.folder)
            except OSError as exc:
                raise PersistenceError(self.folder, exc) from exc
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.state_path)
            except BaseException as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                if isinstance(exc, OSError) and not isinstance(exc, PersistenceError):
                    raise PersistenceError(self.folder, exc) from exc
                raise

    def load_state(self, events: list[Event] | None = None) -> PersistedState:
        """state.json; when missing, empty or damaged, rebuilt from the events (logged)."""
        try:
            return PersistedState.model_validate_json(self.state_path.read_bytes())
        except (OSError, ValidationError, ValueError) as exc:
            log.warning("rebuilding %s from the events: %s", self.state_path, exc)
        from agent.conversation.state_rebuild import rebuild_state

        return rebuild_state(self.folder.name, self.load_events() if events is None else events)

    def close(self) -> None:
        with self._append_lock:
            if self._events_fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._events_fd)
                self._events_fd = None

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def list_conversations(
    persistence_dir: str | os.PathLike[str] | None = None,
) -> list[ConversationSummary]:
    """Every saved conversation, newest first. Unreadable folders are skipped."""
    root = resolve_persistence_dir(persistence_dir)
    if not root.is_dir():
        return []
    summaries = []
    for folder in root.iterdir():
        store = ConversationStore(folder)
        if not folder.is_dir() or not store.exists():
            continue
        try:
            state = store.load_state()
        except (OSError, ValidationError, json.JSONDecodeError) as exc:
            log.warning("skipping %s: %s", folder, exc)
            continue
        summaries.append(
            ConversationSummary(
                id=state.id,
                title=state.title or "(untitled)",
                updated=state.updated,
                created=state.created,
                agent_status=state.agent_status.at_rest,
                status_detail=(
                    state.status_detail if state.agent_status.at_rest is state.agent_status else ""
                ),
                path=folder,
                stats=state.stats,
                repo=state.workspace.repo,
                branch=state.workspace.branch,
            )
        )
    summaries.sort(key=lambda s: s.updated, reverse=True)
    return summaries
