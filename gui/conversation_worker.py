"""The bridge between the window and the engine: nothing here blocks the GUI thread.

``ConversationWorker`` lives on a QThread of its own. It creates the Conversation (which
starts or reattaches a Docker container) and drives ``run()``, which blocks until the run
ends. The engine calls back from its own threads; each callback becomes a queued signal, so
the window's slots always run on the GUI thread.

``ConversationSession`` is the window's handle on all that, on the GUI thread:

- ``pause()`` and ``stop()`` call the engine's thread-safe ``pause()``/``interrupt()``
  directly while a run is active (both only set a flag then), so a click takes effect at
  once. With no run active those calls may touch the disk or Docker, so they go to a
  background thread instead.
- ``send()`` records the message on a background thread (the engine fsyncs it), in order;
  sending into an idle, finished or failed conversation then starts a run; a message sent
  while running reaches the model at its next step; one sent while paused waits for Resume.

Each conversation gets a generation number: after New, late signals of the old one are
dropped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from agent.events import ActionEvent, Event, MessageEvent
from agent.output_buffer import OutputBuffer
from agent.session_commands import STARTS_A_RUN, Phase
from agent.status import AgentStatus
from gui.app_settings import AppSettings

if TYPE_CHECKING:
    from agent import Conversation, ConversationStats

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_S = 20.0


class ConversationWorker(QObject):
    """Lives on the worker QThread: creates the Conversation, drives ``run()``.

    Every signal carries the generation of the conversation it is about. They are emitted
    from this thread or the engine's; receivers on the GUI thread get them queued.
    """

    starting = Signal(int, str)  # what is happening ("Starting the container…")
    ready = Signal(int, object)  # the Conversation
    start_failed = Signal(int, str)
    engine_unreachable = Signal(int, str)  # early messages are kept for a retry
    image_missing = Signal(int, str, str)  # image, what to do; early messages kept
    event_recorded = Signal(int, object)  # an agent.events model
    output_ready = Signal(int)  # live output waits in the buffer
    status_changed = Signal(int, object, str)  # AgentStatus, detail
    stats_changed = Signal(int, object)  # ConversationStats
    container_changed = Signal(int, str, bool)  # short id, frozen
    run_finished = Signal(int, object)  # AgentStatus
    run_failed = Signal(int, str)

    def __init__(self, settings: AppSettings, persistence_dir: Path | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.persistence_dir = persistence_dir
        self.output = OutputBuffer()
        self._lock = threading.Lock()
        self._conversations: dict[int, Conversation] = {}
        # Messages typed while the container was still starting, sent once it is up.
        self._early: dict[int, list[str]] = {}
        self._container_state: dict[int, tuple[str, bool]] = {}
        # Generations that reopen a saved conversation (History), by its id.
        self._reopen: dict[int, str] = {}
        self._closing: dict[int, list[threading.Thread]] = {}

    # --- called from the GUI thread (cheap, thread-safe) ------------------------------------

    def conversation(self, generation: int) -> Conversation | None:
        with self._lock:
            return self._conversations.get(generation)

    def hold_early(self, generation: int, text: str) -> Conversation | None:
        """Keep ``text`` for a conversation still starting, or return the started one."""
        with self._lock:
            conversation = self._conversations.get(generation)
            if conversation is None:
                self._early.setdefault(generation, []).append(text)
            return conversation

    def forget(self, generation: int) -> Conversation | None:
        with self._lock:
            self._early.pop(generation, None)
            self._container_state.pop(generation, None)
            return self._conversations.pop(generation, None)

    def reopen_as(
        self,
        generation: int,
        conversation_id: str,
        closing: Sequence[threading.Thread] = (),
    ) -> None:
        with self._lock:
            self._reopen[generation] = conversation_id
            self._closing[generation] = list(closing)

    def delete_saved(self, conversation_id: str, remove_container: bool) -> bool:
        """Delete a saved conversation that is not open, without starting its container
        (removed by label); True when that waits for the engine (blocks on Docker)."""
        from agent.deletion import delete_saved, remove_pending

        remove_pending(self.persistence_dir)  # left by a delete while the engine was away
        return delete_saved(
            conversation_id, self.persistence_dir, remove_container=remove_container
        )

    # --- slots, on the worker thread --------------------------------------------------------

    @Slot(int)
    def open(self, generation: int) -> None:
        """Create the conversation and its container, send early messages, run."""
        self.starting.emit(generation, "Starting the container…")
        with self._lock:
            closing = self._closing.pop(generation, [])
        # A conversation still closing (left by New) may be the one reopened: its close
        # (the last checkpoint, then stopping the container) must not race the reopen.
        for thread in closing:
            thread.join(SHUTDOWN_WAIT_S)
        try:
            conversation = self._create(generation)
        except Exception as exc:
            from sandbox import EngineUnreachableError

            if isinstance(exc, EngineUnreachableError):
                # Nothing the user typed is lost: a retry sends it.
                log.warning("Docker engine unreachable: %s", exc)
                self.engine_unreachable.emit(generation, str(exc))
                return
            from sandbox import ImageMissingError

            if isinstance(exc, ImageMissingError):
                # The window offers to build it, then retries with what the user typed.
                log.warning("sandbox image missing: %s", exc)
                self.image_missing.emit(generation, exc.image, str(exc))
                return
            log.exception("could not start the conversation")
            with self._lock:
                self._early.pop(generation, None)
            self.start_failed.emit(generation, _describe(exc))
            return
        with self._lock:
            self._conversations[generation] = conversation
            early = self._early.pop(generation, [])
        self.ready.emit(generation, conversation)
        self._emit_container(generation, conversation)
        with self._lock:
            reopened = self._reopen.pop(generation, None) is not None
        if reopened:
            state = conversation.state
            self.status_changed.emit(generation, state.agent_status, state.status_detail)
        for text in early:
            conversation.send_message(text)
        if early:
            self.run(generation)
        elif reopened:  # nothing to run yet: the session stops waiting for a run
            self.run_finished.emit(generation, conversation.state.agent_status)

    @Slot(int)
    def run(self, generation: int) -> None:
        conversation = self.conversation(generation)
        if conversation is None:
            self.run_finished.emit(generation, AgentStatus.IDLE)
            return
        try:
            status = conversation.run()
        except Exception as exc:
            log.exception("run() failed")
            self.run_failed.emit(generation, _describe(exc))
            return
        self._emit_container(generation, conversation)
        self.run_finished.emit(generation, status)

    # --- engine callbacks (engine threads) --------------------------------------------------

    def _create(self, generation: int) -> Conversation:
        from agent import Agent, Conversation, Tool

        llm = self.settings.make_llm()
        agent = Agent(
            llm=llm,
            tools=[Tool(name="BashTool"), Tool(name="FileEditorTool")],
            condensation_llm=self.settings.make_condensation_llm(),
        )
        from sandbox import DockerWorkspace

        # The settings' limits apply to each new conversation (image None: Berth's default).
        workspace: Any = DockerWorkspace(
            self.settings.sandbox_image,
            on_progress=lambda text: self.starting.emit(generation, text),
            **self.settings.workspace_options(),
        )
        with self._lock:
            reopen_id = self._reopen.get(generation)
        holder: dict[str, Conversation] = {}
        last_stats: dict[str, ConversationStats] = {}

        def on_event(event: Event) -> None:
            self.event_recorded.emit(generation, event)
            conversation = holder.get("c")
            if conversation is not None:
                stats = conversation.state.stats
                if stats != last_stats.get("s"):  # they change once per LLM reply
                    last_stats["s"] = stats
                    self.stats_changed.emit(generation, stats)
                self._emit_container(generation, conversation)

        def on_status(status: AgentStatus) -> None:
            conversation = holder.get("c")
            detail = conversation.state.status_detail if conversation is not None else ""
            self.status_changed.emit(generation, status, detail)

        def on_output(tool_call_id: str, chunk: str) -> None:
            if self.output.add(tool_call_id, chunk):
                self.output_ready.emit(generation)
            conversation = holder.get("c")
            if conversation is not None:
                self._emit_container(generation, conversation)

        conversation = Conversation(
            agent,
            # A reopened conversation finds its own container again (saved spec, by label).
            workspace=None if reopen_id else workspace,
            conversation_id=reopen_id,
            persistence_dir=self.persistence_dir,
            callbacks=[on_event],
            on_status_change=on_status,
            on_command_output=on_output,
            max_iterations=self.settings.max_iterations,
            confirmation_mode=self.settings.confirmation_mode,
        )
        holder["c"] = conversation
        return conversation

    def _emit_container(self, generation: int, conversation: Conversation) -> None:
        """Say the container's id and whether it is frozen, when that changed."""
        try:
            workspace = conversation.workspace
            state = (str(workspace.short_id), bool(workspace.frozen))
        except Exception:  # not started, or gone: the status bar just keeps what it had
            return
        with self._lock:
            if self._container_state.get(generation) == state:
                return
            self._container_state[generation] = state
        self.container_changed.emit(generation, *state)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ConversationSession(QObject):
    """The window's handle on the current conversation (GUI thread only)."""

    starting = Signal(str)
    ready = Signal(object)  # Conversation
    start_failed = Signal(str)
    engine_unreachable = Signal(str)  # what to do; retry_start() tries again
    image_missing = Signal(str, str)  # image, what to do; retry_start() once built
    event_recorded = Signal(object)
    output_received = Signal(list)  # [(tool_call_id, chunk)], in order
    status_changed = Signal(object, str)
    stats_changed = Signal(object)
    container_changed = Signal(str, bool)
    run_finished = Signal(object)
    error = Signal(str)
    queued_changed = Signal(int)  # user messages not yet seen by the model
    reset = Signal()  # a new conversation began: clear the views
    reopened = Signal(object)  # a saved Conversation, reopened: show its events
    deleted = Signal(str)  # a saved conversation's id, once it is gone
    removal_pending = Signal(str)  # what to tell the user: the engine was away
    forked = Signal(str)  # the new conversation's id (it is then opened)
    changes_ready = Signal(object, list)  # since (checkpoint id or None), [FileChange]
    changes_failed = Signal(str)

    _open_requested = Signal(int)
    _run_requested = Signal(int)
    _call_done = Signal(object, object, object)  # then, result, error
    _deleted = Signal(str)
    _removal_pending = Signal(str)

    def __init__(
        self,
        settings: AppSettings,
        parent: QObject | None = None,
        *,
        persistence_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._thread = QThread()
        self._thread.setObjectName("conversation-worker")
        self._worker = ConversationWorker(settings, persistence_dir)
        self._worker.moveToThread(self._thread)
        self._open_requested.connect(self._worker.open)
        self._run_requested.connect(self._worker.run)
        self._call_done.connect(self._on_call_done)
        self._deleted.connect(self.deleted)
        self._removal_pending.connect(self.removal_pending)
        self._reopening: str | None = None
        w = self._worker
        w.starting.connect(self._on_starting)
        w.ready.connect(self._on_ready)
        w.start_failed.connect(self._on_start_failed)
        w.engine_unreachable.connect(self._on_engine_unreachable)
        w.image_missing.connect(self._on_image_missing)
        w.event_recorded.connect(self._on_event)
        w.output_ready.connect(self._on_output_ready)
        w.status_changed.connect(self._on_status)
        w.stats_changed.connect(self._on_stats)
        w.container_changed.connect(self._on_container)
        w.run_finished.connect(self._on_run_finished)
        w.run_failed.connect(self._on_run_failed)
        self._thread.start()
        # One thread for sends and for calls that may wait on the disk or Docker: sends
        # stay in the order they were typed.
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="berth-send")
        self._generation = 0
        self._opened = False  # open() requested for this generation
        self._conversation: Conversation | None = None
        self._status = AgentStatus.IDLE
        self._detail = ""
        self._starting = False
        self._run_active = False
        self._rerun = False
        self._event_count = 0
        self._delivered = 0
        self._user_indices: list[int] = []
        self._closing: list[threading.Thread] = []
        self._shut = False
        # Approve or Reject clicked before the run that asked had returned: done then.
        self._answer: Callable[[], None] | None = None
        # Containers left by a delete while the engine was away go once it is back.
        from agent.deletion import remove_pending

        self._call(remove_pending, persistence_dir)

    # --- what the window reads --------------------------------------------------------------

    @property
    def status(self) -> AgentStatus:
        return self._status

    @property
    def status_detail(self) -> str:
        return self._detail

    @property
    def is_starting(self) -> bool:
        return self._starting

    @property
    def is_running(self) -> bool:
        return self._run_active

    @property
    def phase(self) -> Phase:
        """Where the conversation stands, in the session rules' terms."""
        if self._shut:
            return Phase.CLOSED
        if self._starting:
            return Phase.STARTING
        if self._conversation is None and self._status is AgentStatus.IDLE:
            return Phase.NOT_STARTED
        # A status other than IDLE came from a conversation (its ready signal may still be
        # on its way), so that status decides.
        return Phase.RUNNING if self._run_active else Phase.OPEN

    @property
    def conversation(self) -> Conversation | None:
        return self._conversation

    @property
    def queued_count(self) -> int:
        return sum(1 for i in self._user_indices if i >= self._delivered)

    # --- what the window asks ---------------------------------------------------------------

    def send(self, text: str) -> None:
        """Record ``text`` (off the GUI thread); start a run when nothing is running."""
        if not text.strip() or self._shut:
            return
        generation = self._generation
        if not self._opened:
            self._opened = True
            self._starting = True
            self._worker.hold_early(generation, text)
            self._open_requested.emit(generation)
            self.status_changed.emit(self._status, "Starting the container…")
            return
        conversation = self._worker.hold_early(generation, text)
        if conversation is None:
            return  # still starting: sent as soon as the container is up
        self._call(conversation.send_message, text, then=lambda _e: self._after_send(generation))

    def pause(self) -> None:
        conversation = self._conversation
        if conversation is None:
            return
        if self._run_active:
            conversation.pause()  # only sets a flag while a run is active
        else:
            self._call(conversation.pause)

    def resume(self) -> None:
        if self._conversation is not None and not self._run_active:
            self._start_run()

    def approve(self) -> None:
        """Run the tool calls waiting for confirmation (``run()`` approves them)."""
        if self._status is not AgentStatus.WAITING_FOR_CONFIRMATION:
            return
        if self._run_active:  # the run that stopped to ask has not returned yet
            self._answer = self.approve
        else:
            self.resume()

    def reject(self, reason: str) -> None:
        """Reject the waiting tool calls (off the GUI thread), then let the model answer."""
        conversation = self._conversation
        if conversation is None or self._status is not AgentStatus.WAITING_FOR_CONFIRMATION:
            return
        if self._run_active:
            self._answer = lambda: self.reject(reason)
            return
        generation = self._generation
        self._call(conversation.reject, reason, then=lambda _r: self._after_reject(generation))

    def retry_start(self) -> None:
        """Try again to start the conversation (after the engine was unreachable)."""
        if self._opened or self._shut:
            return
        self._opened = True
        self._starting = True
        self._open_requested.emit(self._generation)
        self.status_changed.emit(self._status, "Starting the container…")

    def stop(self) -> None:
        conversation = self._conversation
        if conversation is None:
            return
        if self._run_active:
            conversation.interrupt()  # only sets a flag while a run is active
        else:
            self._call(conversation.interrupt)

    # Checkpoints: the rules are the Conversation's (agent.checkpoints); these only run them
    # off the GUI thread. A rewind pauses a running conversation itself.

    def rewind(self, checkpoint_id: str) -> None:
        conversation = self._conversation
        if conversation is not None:
            self._call(conversation.rewind, checkpoint_id)

    def fork(self, checkpoint_id: str) -> None:
        """Fork, then show the fork (this conversation carries on untouched)."""
        conversation = self._conversation
        if conversation is None:
            return

        def work() -> str:
            fork = conversation.fork(checkpoint_id)
            fork.close()  # reopened below by the session, as any saved conversation
            return fork.id

        def then(fork_id: str) -> None:
            self.forked.emit(fork_id)
            self.open_conversation(fork_id)

        self._call(work, then=then)

    def changes(self, since: str | None) -> None:
        """``changes_ready`` with what changed in /workspace since ``since`` (None: start)."""
        conversation = self._conversation
        if self._shut:
            return
        if conversation is None:
            self.changes_ready.emit(since, [])
            return
        future: Future[Any] = self._calls.submit(conversation.changes, since)

        def done(f: Future[Any]) -> None:  # the call thread; signals queue to the GUI
            error = f.exception()
            if error is not None:
                self.changes_failed.emit(_describe(error))
            else:
                self.changes_ready.emit(since, f.result())

        future.add_done_callback(done)

    def new_conversation(self) -> None:
        """Leave the current conversation (closed in the background) and begin afresh."""
        old = self._worker.forget(self._generation)
        if old is not None:
            self._close_in_background(old)
        self._generation += 1
        self._opened = False
        self._conversation = None
        self._starting = False
        self._run_active = False
        self._rerun = False
        self._answer = None
        self._event_count = 0
        self._delivered = 0
        self._user_indices = []
        self._worker.output.drain()
        self._status = AgentStatus.IDLE
        self._detail = ""
        self.reset.emit()
        self.status_changed.emit(self._status, "")
        self.queued_changed.emit(0)

    def open_conversation(self, conversation_id: str) -> None:
        """Leave the current conversation and reopen a saved one (off the GUI thread)."""
        if self._shut:
            return
        current = self._conversation
        if current is not None and current.id == conversation_id:
            return
        self.new_conversation()
        self._reopening = conversation_id
        closing = [t for t in self._closing if t.is_alive()]
        self._worker.reopen_as(self._generation, conversation_id, closing)
        self._opened = True
        self._starting = True
        self._open_requested.emit(self._generation)
        self.status_changed.emit(self._status, "Opening the conversation…")

    def delete_conversation(self, conversation_id: str, remove_container: bool) -> None:
        """Delete a saved conversation (the open one too: New follows), in the background."""
        current = self._conversation
        work: Callable[[], None]
        if current is not None and current.id == conversation_id:
            self._worker.forget(self._generation)
            self.new_conversation()

            def work() -> None:
                current.delete(remove_container=remove_container)
        else:

            def work() -> None:
                if self._worker.delete_saved(conversation_id, remove_container):
                    self._removal_pending.emit(
                        "Deleted. Docker is not reachable: its container and volume are "
                        "removed when Docker is back."
                    )

        # A conversation still closing (left by New or by opening another) is closed first:
        # deleting reopens it, and two handles on one folder and container would race.
        closing = [t for t in self._closing if t.is_alive()]

        def run() -> None:
            for thread in closing:
                thread.join(SHUTDOWN_WAIT_S)
            try:
                work()
            except Exception as exc:
                log.exception("could not delete conversation %s", conversation_id)
                self._call_done.emit(None, None, exc)
            self._deleted.emit(conversation_id)

        thread = threading.Thread(target=run, name="berth-delete", daemon=True)
        thread.start()
        self._closing = [t for t in self._closing if t.is_alive()] + [thread]

    def shutdown(self, timeout: float = SHUTDOWN_WAIT_S) -> None:
        """Pause and close the conversation, stop the threads. Call once, at quit."""
        if self._shut:
            return
        self._shut = True
        conversation = self._worker.forget(self._generation)
        if conversation is not None:
            conversation.pause()
            self._close_in_background(conversation)
        for thread in self._closing:
            thread.join(timeout)
        self._calls.shutdown(wait=True, cancel_futures=False)
        self._thread.quit()
        self._thread.wait()

    # --- internals --------------------------------------------------------------------------

    def _call(
        self, fn: Callable[..., Any], *args: Any, then: Callable[[Any], None] | None = None
    ) -> None:
        """Run ``fn`` on the call thread; ``then(result)`` later on the GUI thread."""
        if self._shut:
            return
        future: Future[Any] = self._calls.submit(fn, *args)

        def done(f: Future[Any]) -> None:  # on the call thread: queued to the GUI thread
            error = f.exception()
            self._call_done.emit(then, None if error else f.result(), error)

        future.add_done_callback(done)

    @Slot(object, object, object)
    def _on_call_done(self, then: Any, result: Any, error: BaseException | None) -> None:
        if error is not None:
            self.error.emit(_describe(error))
        elif then is not None:
            then(result)

    def _after_send(self, generation: int) -> None:
        if generation != self._generation:
            return
        if self._run_active:
            # The run may have decided to finish just before the message landed.
            self._rerun = True
        elif self._status in STARTS_A_RUN:
            self._start_run()

    def _after_reject(self, generation: int) -> None:
        if generation == self._generation and not self._run_active:
            self._start_run()

    def _start_run(self) -> None:
        self._run_active = True
        self._rerun = False
        self._run_requested.emit(self._generation)

    def _close_in_background(self, conversation: Conversation) -> None:
        def close() -> None:
            with contextlib.suppress(Exception):
                conversation.close()

        thread = threading.Thread(target=close, name="berth-close", daemon=True)
        thread.start()
        self._closing = [t for t in self._closing if t.is_alive()] + [thread]

    def _on_starting(self, generation: int, text: str) -> None:
        if generation == self._generation:
            self.starting.emit(text)

    def _on_ready(self, generation: int, conversation: Conversation) -> None:
        if generation != self._generation:
            return
        self._conversation = conversation
        self._starting = False
        if self._reopening == conversation.id:
            self._reopening = None
            # Its saved events are shown as they are; all of them reached the model.
            self._event_count = self._delivered = len(conversation.state.events)
            self._user_indices = []
            self.reopened.emit(conversation)
        # open() sends the early messages then runs, on the worker thread.
        self._run_active = True
        self.ready.emit(conversation)
        self.status_changed.emit(self._status, self._detail)

    def _on_start_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._starting = False
        self._opened = False
        self.start_failed.emit(message)
        self.status_changed.emit(self._status, self._detail)

    def _on_engine_unreachable(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._starting = False
        self._opened = False
        self.engine_unreachable.emit(message)
        self.status_changed.emit(self._status, self._detail)

    def _on_image_missing(self, generation: int, image: str, message: str) -> None:
        if generation != self._generation:
            return
        self._starting = False
        self._opened = False
        self.image_missing.emit(image, message)
        self.status_changed.emit(self._status, self._detail)

    def _on_event(self, generation: int, event: Event) -> None:
        if generation != self._generation:
            return
        index = self._event_count
        self._event_count += 1
        if isinstance(event, MessageEvent) and event.role == "user":
            self._user_indices.append(index)
            self.queued_changed.emit(self.queued_count)
        count = getattr(event, "request_event_count", None)
        if (
            isinstance(event, MessageEvent | ActionEvent)
            and count is not None
            and count > self._delivered
        ):
            self._delivered = count
            self._user_indices = [i for i in self._user_indices if i >= count]
            self.queued_changed.emit(self.queued_count)
        self.event_recorded.emit(event)

    def _on_output_ready(self, generation: int) -> None:
        chunks = self._worker.output.drain()
        if generation == self._generation and chunks:
            self.output_received.emit(chunks)

    def _on_status(self, generation: int, status: AgentStatus, detail: str) -> None:
        if generation != self._generation:
            return
        self._status = status
        self._detail = detail
        self.status_changed.emit(status, detail)

    def _on_stats(self, generation: int, stats: ConversationStats) -> None:
        if generation == self._generation:
            self.stats_changed.emit(stats)

    def _on_container(self, generation: int, short_id: str, frozen: bool) -> None:
        if generation == self._generation:
            self.container_changed.emit(short_id, frozen)

    def _on_run_finished(self, generation: int, status: AgentStatus) -> None:
        if generation != self._generation:
            return
        self._run_active = False
        rerun, self._rerun = self._rerun, False
        answer, self._answer = self._answer, None
        self.run_finished.emit(status)
        if answer is not None and status is AgentStatus.WAITING_FOR_CONFIRMATION:
            answer()
            return
        if rerun and status in STARTS_A_RUN:
            self._start_run()  # returns at once if the model already saw every message
        else:
            self.status_changed.emit(self._status, self._detail)

    def _on_run_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._run_active = False
        self.error.emit(message)
        self.status_changed.emit(self._status, self._detail)
