"""A conversation's engine room: its live state, how an event is recorded, and how the loop
waits for work on a worker thread while a pause or a stop may come at any moment.

``Engine`` implements ``EngineHost`` (agent/context/host.py), the narrow protocol the
keepers (context, checkpoints) act through; ``Conversation`` drives it.

Locks: ``cond`` guards the flags and the in-memory state; ``record_lock`` orders disk
writes. ``record_lock`` may be held while taking ``cond``, never the other way round.
Callbacks run with neither held.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent import background
from agent.context.history import answers_for_pending, pending_actions
from agent.conversation.pausing import HoldWord
from agent.conversation.persistence import ConversationStore, PersistenceError
from agent.conversation.state import ConversationStats, LLMSpec, PersistedState, WorkspaceSpec
from agent.events import ActionEvent, Event, LLMUsage, PauseEvent, StatusEvent
from agent.llm import LLM, LLMCancelled
from agent.llm.stream import DeltaCallback, StreamDelta
from agent.status import AgentStatus

if TYPE_CHECKING:
    from sandbox import DockerWorkspace

log = logging.getLogger(__name__)

EventCallback = Callable[[Event], None]
StatusCallback = Callable[[AgentStatus], None]
# Told the number of events a step's LLM request was built from, as it is sent.
RequestCallback = Callable[[int], None]
WaitOutcome = Literal["done", "pause", "interrupt"]


class Job:
    """One blocking piece of work on a worker thread: an LLM request or a tool call."""

    def __init__(self, action: ActionEvent | None = None) -> None:
        self.action = action
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancel = threading.Event()


class Engine:
    """The state and the recording of one conversation (see the module's docstring)."""

    def __init__(
        self,
        conversation_id: str,
        store: ConversationStore,
        llm: LLM,
        saved: PersistedState | None,
        events: list[Event],
        *,
        confirmation_mode: bool,
        max_iterations: int,
        callbacks: Sequence[EventCallback],
        on_status_change: StatusCallback | None,
        on_interrupt: Callable[[], AgentStatus],
    ) -> None:
        self.id = conversation_id
        self.store = store
        self.llm = llm
        self.callbacks: list[EventCallback] = list(callbacks)
        # Pieces of a streamed reply, never recorded; and who hears that a request went out.
        self.token_callbacks: list[DeltaCallback] = []
        self.request_callbacks: list[RequestCallback] = []
        self.on_status_change = on_status_change
        # A stop that comes while the loop waits: the conversation ends the work in flight.
        self._on_interrupt = on_interrupt
        self.workspace: DockerWorkspace
        self.spec = WorkspaceSpec()

        self.cond = threading.Condition(threading.Lock())
        self.record_lock = threading.Lock()
        self.running = False
        self.pause_requested = False
        self.interrupt_requested = False
        self.closed = False
        self.llm_job: Job | None = None
        self.tool_job: Job | None = None
        self.approved: set[str] = set()
        self.unwritten: list[Event] = []  # refused by the disk, written by the next run()
        self.disk_error: PersistenceError | None = None

        self._events = events
        self.max_iterations = max_iterations
        if saved is not None:
            self.status = saved.agent_status
            self.status_detail = saved.status_detail
            self.stats = saved.stats
            self.title = saved.title
            self.created = saved.created
            self.confirmation_mode = saved.confirmation_mode or confirmation_mode
        else:
            self.status = AgentStatus.IDLE
            self.status_detail = ""
            self.stats = ConversationStats()
            self.title = ""
            self.created = datetime.now(UTC)
            self.confirmation_mode = confirmation_mode

    # --- reading ---------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        """The conversation's folder (state.json, events.jsonl, a rewind's intent)."""
        return self.store.folder

    @property
    def events(self) -> list[Event]:
        """A copy of the events so far (events are immutable)."""
        with self.cond:
            return list(self._events)

    def stop_requested(self) -> bool:
        """A pause or a stop is asked for (read under ``cond`` or as a hint)."""
        return self.pause_requested or self.interrupt_requested

    # --- recording -------------------------------------------------------------------------

    def record(self, event: Event) -> None:
        """On disk (fsynced), then in memory, then to the callbacks (no lock held).

        When the disk refuses it (full, read-only), the event waits in memory, in order,
        for the next run() to write it: a tool call's result is never lost, nor its call
        run twice. PersistenceError tells the caller."""
        with self.record_lock:
            if self.unwritten:
                self.unwritten.append(event)
                raise self.disk_error or PersistenceError(self.store.folder, OSError())
            try:
                self.store.append(event)
            except PersistenceError as exc:
                self.unwritten.append(event)
                self.disk_error = exc
                raise
            with self.cond:
                self._events.append(event)
        self._tell(event)

    def write_unwritten(self) -> None:
        """Write the events a full or read-only disk refused, oldest first."""
        with self.record_lock:
            waiting, self.unwritten = self.unwritten, []
        for number, event in enumerate(waiting):
            try:
                self.record(event)
            except PersistenceError:
                with self.record_lock:
                    self.unwritten[:0] = waiting[number + 1 :]
                raise

    def pause_for_disk(self, exc: PersistenceError) -> AgentStatus:
        """PAUSED with the disk's error, in memory (the disk cannot take it); run() retries."""
        log.warning("the conversation cannot be written: %s", exc)
        with self.cond:
            self.status, self.status_detail = AgentStatus.PAUSED, str(exc)
        with contextlib.suppress(Exception):
            self.save_state()
        if self.on_status_change is not None:
            with contextlib.suppress(Exception):
                self.on_status_change(AgentStatus.PAUSED)
        return AgentStatus.PAUSED

    def _tell(self, event: Event) -> None:
        for callback in list(self.callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("an event callback failed")

    def request_sent(self, request_event_count: int) -> None:
        """A step's request goes out: the user messages before it have reached the model."""
        for callback in list(self.request_callbacks):
            try:
                callback(request_event_count)
            except Exception:
                log.exception("a request callback failed")

    def delta_teller(self, cancel: threading.Event) -> DeltaCallback | None:
        """What hands a request's streamed pieces to the token callbacks, until the request
        is abandoned (a pause): nothing of an abandoned reply is shown as if it went on."""
        if not self.token_callbacks:
            return None

        def tell(delta: StreamDelta) -> None:
            if cancel.is_set():
                return
            for callback in list(self.token_callbacks):
                try:
                    callback(delta)
                except Exception:
                    log.exception("a token callback failed")

        return tell

    def set_status(self, status: AgentStatus, detail: str = "") -> None:
        with self.cond:
            if self.status == status and self.status_detail == detail:
                return
            self.status = status
            self.status_detail = detail
        self.record(StatusEvent(status=status, detail=detail))
        self.save_state()
        if self.on_status_change is not None:
            try:
                self.on_status_change(status)
            except Exception:
                log.exception("the status callback failed")

    def persisted_state(self) -> PersistedState:
        """state.json as it stands now."""
        with self.cond:
            llm = self.llm
            return PersistedState(
                id=self.id,
                title=self.title,
                created=self.created,
                updated=datetime.now(UTC),
                agent_status=self.status,
                status_detail=self.status_detail,
                stats=self.stats.model_copy(),
                confirmation_mode=self.confirmation_mode,
                max_iterations=self.max_iterations,
                workspace=self.spec,
                llm=LLMSpec(model=llm.model, base_url=llm.base_url, usage_id=llm.usage_id),
            )

    def save_state(self) -> None:
        self.store.save_state(self.persisted_state())

    def count_usage(self, usage: LLMUsage, *, step: bool, condensation: bool = False) -> None:
        with self.cond:
            stats = self.stats
            stats.steps += 1 if step else 0
            stats.condensations += 1 if condensation else 0
            stats.llm_calls += 1
            stats.prompt_tokens += usage.prompt_tokens
            stats.completion_tokens += usage.completion_tokens
            stats.cached_tokens += usage.cached_tokens
            stats.cost += usage.cost
            stats.llm_latency_s += usage.latency_s

    def answer_pending(self, content: str, ended: str | None = None) -> None:
        """Give every tool call still without a result this one."""
        for answer in answers_for_pending(self.events, content, ended):
            self.record(answer)

    def clear_approvals(self) -> None:
        """Calls approved while waiting for confirmation are approved no more."""
        self.approved.clear()

    # --- waiting for work ------------------------------------------------------------------

    def start(self, job: Job, work: Callable[[], Any], what: str) -> None:
        """Run ``work`` for ``job`` on a worker thread; its outcome lands in the job."""

        def run() -> None:
            try:
                result: Any = work()
                error = None
            except LLMCancelled:
                return
            except BaseException as exc:  # reported to the loop, which decides
                result, error = None, exc
            with self.cond:
                job.result, job.error, job.done = result, error, True
                self.cond.notify_all()

        background.start(f"{what}-{background.conversation_tag(self.id)}", run, daemon=True)

    def ask_llm(
        self, call: Callable[[threading.Event], Any], paused_detail: str
    ) -> Job | AgentStatus:
        """Run an LLM call on a worker thread and wait for it, a pause or an interrupt.
        Returns the finished job, or the status the run ends with (the call abandoned:
        whatever it brings back later is dropped)."""
        job = Job()
        with self.cond:
            self.llm_job = job
        self.start(job, lambda: call(job.cancel), "llm")
        outcome = self.wait(job)
        with self.cond:
            self.llm_job = None
        if outcome == "done":
            return job
        job.cancel.set()
        if outcome == "interrupt":
            return self._on_interrupt()
        return self.paused(paused_detail)

    def wait(self, job: Job) -> WaitOutcome:
        """Block until the job is done or a pause/interrupt is requested."""
        with self.cond:
            while True:
                if self.interrupt_requested:
                    return "interrupt"
                if job.done:
                    return "done"
                if self.pause_requested:
                    return "pause"
                self.cond.wait()

    def paused(self, detail: str, hold: HoldWord | None = None) -> AgentStatus:
        self.record(PauseEvent(hold=hold))
        self.set_status(AgentStatus.PAUSED, detail)
        return AgentStatus.PAUSED


class ConversationState:
    """A live, thread-safe view of a conversation (``conversation.state``)."""

    def __init__(self, engine: Engine) -> None:
        self._e = engine

    @property
    def id(self) -> str:
        return self._e.id

    @property
    def agent_status(self) -> AgentStatus:
        return self._e.status

    @property
    def status_detail(self) -> str:
        return self._e.status_detail

    @property
    def events(self) -> list[Event]:
        """A copy of the events so far (events are immutable)."""
        return self._e.events

    @property
    def stats(self) -> ConversationStats:
        with self._e.cond:
            return self._e.stats.model_copy()

    @property
    def confirmation_mode(self) -> bool:
        return self._e.confirmation_mode

    @property
    def title(self) -> str:
        return self._e.title

    @property
    def pending_actions(self) -> list[ActionEvent]:
        """Tool calls that have no result yet (those awaiting confirmation, say)."""
        return pending_actions(self.events)

    def __repr__(self) -> str:
        return f"ConversationState(id={self.id!r}, agent_status={self.agent_status!r})"
