"""A conversation's checkpoints: taken after each tool call, rewound to, forked from.

The rules of it live here; the store itself is ``sandbox.checkpoints`` (a helper container
that keeps a content-addressed copy of /workspace). What a Conversation does:

- ``checkpoint 0`` as a run first starts, then one after each tool call that ran. Each is
  taken on this module's own thread, while the next LLM request is under way, and the next
  tool call waits for it (so no step's changes leak into the one before). That wait ends at
  once on pause or stop: checkpoints never hold up a pause. The agent's container is held
  still while the helper reads (sandbox.stillness), unless the user's pause holds it. A
  checkpoint that fails is a CheckpointFailedEvent (a warning); the run goes on. Files kept
  out over a size limit are named in the CheckpointEvent's notes.
- ``rewind``: the intent is written to the conversation's folder first (``rewind.json``),
  then every process the agent left is ended, /workspace is restored with the container
  held still, then a RewindEvent is recorded and the intent removed. A kill at any point
  leaves the intent; reopening (or the next run) restores again, which is idempotent, so
  the workspace ends as the checkpoint, never as a mixture. An intent that cannot be read,
  or whose restore keeps failing, is dropped with a CheckpointFailedEvent saying so: the
  conversation always opens and runs.
- ``fork``: a new conversation folder with the events up to the checkpoint, a new volume
  and a store of its own, into which the checkpoints it keeps are copied with all they
  need (so neither conversation's pruning can reach the other's), then the conversation
  reopened from that folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict

from agent import background
from agent.context.branches import live_events
from agent.context.history import answers_for_pending
from agent.context.host import EngineHost
from agent.conversation.persistence import ConversationStore
from agent.conversation.state import PersistedState
from agent.events import (
    CheckpointEvent,
    CheckpointFailedEvent,
    Event,
    NoticeEvent,
    ObservationEvent,
    RewindEvent,
)
from agent.status import AgentStatus

if TYPE_CHECKING:
    from sandbox.checkpoints import CheckpointStore, FileChange, StoreUsage

log = logging.getLogger(__name__)

REWIND_FILE = "rewind.json"
REWOUND_NOT_RUN = "Not run: the user rewound the workspace to before this tool call."
FORKED_NOT_RUN = "Not run: this conversation was forked from before this tool call."
REWOUND_STOPPED = "Stopped: the user rewound the workspace while this command ran."
# How long close() lets a checkpoint under way finish before stopping its helper.
CLOSE_WAIT_S = 3.0
# Reopening tries a rewind left unfinished this many times (the next run once more) before
# the intent is dropped: a restore that always fails must not keep the conversation shut.
REWIND_ATTEMPTS = 2


class CheckpointHost(EngineHost, Protocol):
    """The conversation as its checkpoint keeper sees it: the keeper's protocol
    (agent/context/host.py) and what a rewind and a fork need besides."""

    @property
    def folder(self) -> Path:
        """The conversation's folder; a fork's goes beside it."""
        ...

    def answer_pending(self, content: str, ended: str | None = None) -> None: ...

    def clear_approvals(self) -> None: ...

    def persisted_state(self) -> PersistedState: ...


class Checkpoint(BaseModel):
    """One saved state of /workspace (``conversation.checkpoints``)."""

    model_config = ConfigDict(frozen=True)

    id: str
    step: int
    # The ObservationEvent of the tool call it follows; None for the first one.
    event_id: str | None
    after_event_id: str | None
    tree: str
    created: datetime
    files: int = 0
    bytes: int = 0

    @classmethod
    def of(cls, event: CheckpointEvent) -> Checkpoint:
        return cls(
            id=event.checkpoint_id,
            step=event.step,
            event_id=event.event_id,
            after_event_id=event.after_event_id,
            tree=event.tree,
            created=event.timestamp,
            files=event.files,
            bytes=event.bytes,
        )


class RewindIntent(BaseModel):
    """On disk while a rewind is under way: what reopening must finish."""

    rewind_id: str
    checkpoint_id: str
    step: int
    tree: str
    to_event_id: str | None
    attempts: int = 0  # restores that failed so far


class CheckpointNotFoundError(KeyError):
    def __str__(self) -> str:
        return f"No checkpoint {self.args[0]!r} in this conversation."


_STOP = "stop"


class _Job:
    def __init__(self, step: int, event_id: str | None, after_event_id: str | None) -> None:
        self.step = step
        self.event_id = event_id
        self.after_event_id = after_event_id


class CheckpointKeeper:
    """The checkpoints of one Conversation. Thread-safe."""

    def __init__(self, host: CheckpointHost) -> None:
        self._c = host
        self._store: CheckpointStore | None = None
        self._store_lock = threading.Lock()
        self._jobs: queue.Queue[_Job | str] = queue.Queue()
        self._busy = 0  # guarded by the conversation's _cond, which it notifies
        self._thread: threading.Thread | None = None
        self._closed = False
        self._helper_missing = False  # said once; steps after it take no checkpoint
        events = host.events
        taken = [e.step for e in events if isinstance(e, (CheckpointEvent, CheckpointFailedEvent))]
        self._next_step = max(taken, default=-1) + 1
        self._has_first = any(isinstance(e, CheckpointEvent) for e in events)
        self.intent_path = host.folder / REWIND_FILE

    # -- listing ---------------------------------------------------------------------------

    @property
    def checkpoints(self) -> list[Checkpoint]:
        events = self._c.events
        return [Checkpoint.of(e) for e in events if isinstance(e, CheckpointEvent)]

    def get(self, checkpoint_id: str) -> Checkpoint:
        for checkpoint in self.checkpoints:
            if checkpoint.id == checkpoint_id:
                return checkpoint
        raise CheckpointNotFoundError(checkpoint_id)

    # -- the store -------------------------------------------------------------------------

    def store(self) -> CheckpointStore:
        """The helper for this workspace (made on first use; blocks on Docker)."""
        with self._store_lock:
            if self._store is None:
                from sandbox.checkpoints import CheckpointStore, workspace_mount

                workspace = self._c.workspace
                self._store = CheckpointStore(
                    self._c.id, workspace_mount(workspace.container), client=workspace.client
                )
            return self._store

    # -- taking checkpoints ----------------------------------------------------------------

    def before_run(self) -> None:
        """Finish a rewind left half-done (or drop it), and take checkpoint 0 the first
        time."""
        if self.intent_path.exists():
            self._finish_or_drop(last_try=True)
        if not self._has_first:
            self._has_first = True
            events = self._c.events
            self._enqueue(None, events[-1].id if events else None)

    def recover(self) -> None:
        """On reopen: a rewind a kill cut short is finished now (the next run tries again
        if the engine will not let it)."""
        if self.intent_path.exists():
            self._finish_or_drop(last_try=False)

    def _finish_or_drop(self, last_try: bool) -> None:
        """Finish the rewind an intent names; never raises. An unreadable intent, or one
        whose restore failed on its last try, is dropped and said in the history."""
        try:
            intent = RewindIntent.model_validate_json(self.intent_path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            self._drop_intent(0, f"A rewind left unfinished could not be read ({exc}).")
            return
        try:
            self.finish_rewind()
        except Exception as exc:
            attempts = intent.attempts + 1
            log.warning("could not finish the rewind left unfinished (try %d): %s", attempts, exc)
            if last_try or attempts >= REWIND_ATTEMPTS:
                where = "the start" if intent.step == 0 else f"step {intent.step}"
                self._drop_intent(
                    intent.step,
                    f"The rewind to {where} could not be finished ({exc}); /workspace may "
                    "be partly rewound. Rewind again to try once more.",
                )
            else:
                with contextlib.suppress(OSError):
                    update = {"attempts": attempts}
                    _write_atomically(
                        self.intent_path, intent.model_copy(update=update).model_dump_json()
                    )

    def _drop_intent(self, step: int, message: str) -> None:
        log.warning("%s", message)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.intent_path)
        self._c.record(CheckpointFailedEvent(step=step, message=message))

    def after_tool(self, observation: ObservationEvent) -> None:
        """A tool call ran: checkpoint what it left (off this thread)."""
        self._enqueue(observation.id, observation.id)

    def _enqueue(self, event_id: str | None, after_event_id: str | None) -> None:
        with self._c.cond:
            step = self._next_step
            self._next_step += 1
        self._submit(_Job(step, event_id, after_event_id))

    def _submit(self, job: _Job | str) -> None:
        with self._c.cond:
            if self._closed:
                return
            self._busy += 1
            if self._thread is None:
                tag = background.conversation_tag(self._c.id)
                self._thread = background.start(f"checkpoints-{tag}", self._work, daemon=True)
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job == _STOP:
                return
            try:
                if isinstance(job, _Job):
                    self._take(job)
            finally:
                with self._c.cond:
                    self._busy -= 1
                    self._c.cond.notify_all()

    def _take(self, job: _Job) -> None:
        from sandbox import ImageBuildError, ImageMissingError

        if self._helper_missing:
            return
        checkpoint_id = uuid.uuid4().hex[:16]
        try:
            from sandbox.stillness import held_still

            store = self.store()  # started before the freeze: that may take seconds
            # One moment of the workspace: the agent's processes stand still while it is
            # read (a pause in the middle takes the freeze over; see brief_freeze.py).
            with held_still(self._c.workspace):
                snapshot = store.snapshot(checkpoint_id)
        except Exception as exc:
            # Missing, or not buildable here (no registry to pull its base from): the same
            # for the user, who is told once how to build it offline.
            no_image = (ImageMissingError, ImageBuildError)
            if not isinstance(exc, no_image) and not isinstance(exc.__cause__, no_image):
                self._failed(job, exc)
                return
            # Checkpoints are off until the image exists: said once, with the way to build
            # it offline, not as a warning at every step.
            log.warning("checkpoints are off: %s", exc)
            self._helper_missing = True
            text = f"No step of this conversation can be taken back until it exists. {exc}"
            title = "Checkpoints are off: the helper image is missing"
            self._c.record(NoticeEvent(title=title, text=text, source="checkpoints"))
            return
        self._c.record(
            CheckpointEvent(
                checkpoint_id=checkpoint_id,
                step=job.step,
                event_id=job.event_id,
                after_event_id=job.after_event_id,
                tree=snapshot.tree,
                files=snapshot.files,
                bytes=snapshot.bytes,
                seconds=snapshot.seconds,
                notes=snapshot.notes,
            )
        )
        for note in snapshot.notes:
            log.warning("checkpoint %d: %s", job.step, note)

    def _failed(self, job: _Job, exc: Exception) -> None:
        """A warning, never the end of the run."""
        log.warning("checkpoint %d failed: %s", job.step, exc)
        self._c.record(
            CheckpointFailedEvent(
                step=job.step,
                event_id=job.event_id,
                message=f"Checkpoint {job.step} could not be taken: {exc}",
            )
        )

    def settle(self, stop: Callable[[], bool]) -> bool:
        """Wait for the checkpoints under way, unless ``stop()`` (pause, interrupt) comes
        first. Called with the conversation's condition not held. True when all are done."""
        with self._c.cond:
            while self._busy and not stop():
                self._c.cond.wait()
            return not self._busy

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._c.cond:
            return self._c.cond.wait_for(lambda: not self._busy, timeout=timeout)

    # -- rewind ----------------------------------------------------------------------------

    def rewind(self, checkpoint_id: str) -> None:
        """Put /workspace back to a checkpoint; the history goes on from there. PAUSED.
        The caller holds the conversation still (no run, no command in flight)."""
        checkpoint = self.get(checkpoint_id)
        self.wait_idle()
        intent = RewindIntent(
            rewind_id=uuid.uuid4().hex,
            checkpoint_id=checkpoint.id,
            step=checkpoint.step,
            tree=checkpoint.tree,
            to_event_id=checkpoint.after_event_id,
        )
        _write_atomically(self.intent_path, intent.model_dump_json())
        self.finish_rewind()

    def finish_rewind(self) -> None:
        """Restore the workspace an intent names (again, if need be) and record the rewind."""
        from sandbox.stillness import end_processes, held_still

        intent = RewindIntent.model_validate_json(self.intent_path.read_bytes())
        workspace = self._c.workspace
        # Nothing the agent left may write (or swap names) while /workspace is rewritten.
        end_processes(workspace)
        try:
            with held_still(workspace):
                try:
                    self.store().restore(intent.tree)
                except Exception as exc:
                    # The server may have died under the restore: once more, on a fresh helper.
                    log.warning("a rewind failed (%s); trying once more", exc)
                    self.store().restore(intent.tree)
        finally:
            # A new shell for the one end_processes ended (a paused container: on resume).
            with contextlib.suppress(Exception):
                if workspace.hold.value == "none":
                    workspace.restart_shell()
        c = self._c
        events = c.events
        if not any(isinstance(e, RewindEvent) and e.rewind_id == intent.rewind_id for e in events):
            c.record(
                RewindEvent(
                    rewind_id=intent.rewind_id,
                    checkpoint_id=intent.checkpoint_id,
                    step=intent.step,
                    to_event_id=intent.to_event_id,
                )
            )
            # Calls of the same reply that came after the checkpoint never ran here.
            c.answer_pending(REWOUND_NOT_RUN, "rewound")
        c.clear_approvals()
        where = "the start" if intent.step == 0 else f"step {intent.step}"
        c.set_status(AgentStatus.PAUSED, f"Rewound to {where}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.intent_path)

    # -- fork ------------------------------------------------------------------------------

    def fork(self, checkpoint_id: str) -> str:
        """A new conversation's folder beside this one's (own id, volume) from a checkpoint;
        returns its id, for the caller to open."""
        from sandbox import labels
        from sandbox.checkpoints import CheckpointStore, WorkspaceMount, copy_checkpoints

        checkpoint = self.get(checkpoint_id)
        self.wait_idle()
        c = self._c
        events = c.events
        fork_id = uuid.uuid4().hex
        branch = self._branch_until(events, checkpoint)
        kept = [e for e in events if isinstance(e, CheckpointEvent) and e.step <= checkpoint.step]
        kept = [e for e in kept if e.after_event_id is None or e.after_event_id in branch[1]]

        client = c.workspace.client
        volume = labels.volume_name(fork_id)
        client.volumes.create(name=volume, labels=labels.labels_for(fork_id))
        copy_checkpoints(client, c.id, fork_id, {e.checkpoint_id: e.tree for e in kept})
        helper = CheckpointStore(
            fork_id, WorkspaceMount(kind="volume", source=volume), client=client
        )
        try:
            helper.restore(checkpoint.tree)
        finally:
            helper.close()

        root = c.folder.parent
        store = ConversationStore(root / fork_id)
        store.create()
        for event in _with_checkpoints(branch[0], kept):
            store.append(event)
        for answer in answers_for_pending(branch[0], FORKED_NOT_RUN, "forked"):
            store.append(answer)
        store.save_state(_fork_state(c.persisted_state(), fork_id, volume, checkpoint.step))
        store.close()
        return fork_id

    @staticmethod
    def _branch_until(events: list[Event], checkpoint: Checkpoint) -> tuple[list[Event], set[str]]:
        """The live branch as it stood when the checkpoint was taken, and its ids."""
        if checkpoint.after_event_id is None:
            return [], set()
        ids = [e.id for e in events]
        try:
            end = ids.index(checkpoint.after_event_id) + 1
        except ValueError:
            end = 0
        branch = live_events(events[:end])
        return branch, {e.id for e in branch}

    # -- changes, space, life --------------------------------------------------------------

    def changes(self, since: str | None = None) -> list[FileChange]:
        """What changed in /workspace since the first checkpoint (or the one named); big
        files are told apart by hash and marked too large to diff."""
        self.wait_idle()
        checkpoints = self.checkpoints
        if since is not None:
            base = self.get(since)
        elif checkpoints:
            base = checkpoints[0]
        else:  # nothing ran yet: the workspace as found is the first checkpoint
            self.before_run()
            self.wait_idle()
            if not self.checkpoints:
                return []
            base = self.checkpoints[0]
        return self.store().changes(base.tree)  # walked by fd, as a snapshot is

    def read(self, checkpoint_id: str, path: str) -> bytes:
        """A file's content as it was at a checkpoint."""
        return self.store().read(self.get(checkpoint_id).tree, path)

    def usage(self) -> StoreUsage:
        return self.store().usage()

    def prune(self, keep_last: int) -> int:
        """Forget all but the first and the last ``keep_last`` checkpoints; returns the bytes
        freed in this conversation's store."""
        self.wait_idle()
        checkpoints = self.checkpoints
        drop = [cp.id for cp in checkpoints[1 : max(1, len(checkpoints) - keep_last)]]
        store = self.store()
        if drop:
            store.forget(drop)
        return store.gc()

    def close(self) -> None:
        """Let a checkpoint under way finish for a moment, then stop the helper (a call
        still under way fails at once; the store keeps every whole checkpoint)."""
        with self._c.cond:
            self._closed = True
        self.wait_idle(timeout=CLOSE_WAIT_S)
        self._jobs.put(_STOP)
        with self._store_lock:
            store, self._store = self._store, None
        if store is not None:
            with contextlib.suppress(Exception):
                store.close()

    def delete(self) -> None:
        """The conversation is deleted: its store goes, whole (no other conversation's
        checkpoints are in it)."""
        self.close()
        from sandbox.checkpoints import CheckpointStore

        workspace = self._c.workspace
        with contextlib.suppress(Exception):
            CheckpointStore(self._c.id, None, client=workspace.client).destroy()


def _with_checkpoints(branch: list[Event], kept: list[CheckpointEvent]) -> list[Event]:
    """Each checkpoint placed right after the event it followed (the first one first)."""
    after: dict[str | None, list[CheckpointEvent]] = {}
    for checkpoint in kept:
        after.setdefault(checkpoint.after_event_id, []).append(checkpoint)
    out: list[Event] = list(after.pop(None, []))
    for event in branch:
        out.append(event)
        out.extend(after.pop(event.id, []))
    return out


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fork_state(original: PersistedState, fork_id: str, volume: str, step: int) -> PersistedState:
    """The fork's state.json: the original's settings, on its own volume, PAUSED."""
    now = datetime.now(UTC)
    title = original.title or "Conversation"
    return PersistedState(
        id=fork_id,
        title=f"{title} (fork at step {step})",
        created=now,
        updated=now,
        agent_status=AgentStatus.PAUSED,
        status_detail=f"Forked from {original.id[:8]} at step {step}",
        confirmation_mode=original.confirmation_mode,
        # A copy of a repository: the fork hands back as a branch of its own (berth/<its id>).
        workspace=original.workspace.model_copy(
            update={"host_dir": None, "volume": volume, "branch": None}
        ),
        llm=original.llm,
    )
