"""The Conversation: drives an Agent in a DockerWorkspace, and can be paused at any moment.

How the loop is built (the pause semantics of DESIGN.md rest on it): ``run()`` drives the
loop on the caller's thread, but each blocking piece, the LLM request and the tool call,
runs on a worker thread. ``run()`` waits on one Condition for "the piece is done", "pause
requested" or "interrupt requested". ``pause()`` only sets a flag and notifies, so it never
waits for Docker, the network or the disk; ``run()`` wakes at once and:

- LLM request in flight: the request is abandoned (its result is dropped when it arrives)
  and nothing of it is recorded; the next ``run()`` asks again, with every message since.
- tool call in flight: the container is frozen (cgroup freezer) and ``run()`` returns; the
  worker thread stays blocked on the frozen command. The next ``run()`` records a
  ResumeEvent, thaws, waits for that same call and records its result.
- between steps: no new step starts.

Every event is appended to events.jsonl and fsynced before it enters ``state.events`` and
before any callback sees it; callbacks run without any lock that ``pause()`` or
``send_message()`` needs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.agent import Agent
from agent.context.history import answers_for_pending, pending_actions
from agent.context.keeper import ContextKeeper
from agent.context.window import ContextWindow
from agent.conversation.checkpoints import Checkpoint, CheckpointKeeper
from agent.conversation.pausing import HoldWord, hold_command
from agent.conversation.persistence import (
    ConversationStore,
    PersistenceError,
    resolve_persistence_dir,
)
from agent.conversation.recovery import MAX_REVIVALS_PER_RUN, revive
from agent.conversation.state import (
    ConversationStats,
    LLMSpec,
    PersistedState,
    WorkspaceSpec,
    make_title,
)
from agent.conversation.stuck import REPEATS, is_stuck
from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    Event,
    InterruptEvent,
    LLMUsage,
    MessageEvent,
    NoticeEvent,
    ObservationEvent,
    PauseEvent,
    RejectionEvent,
    ResumeEvent,
    StatusEvent,
)
from agent.llm.model import LLMCancelled, LLMError, LLMResponse
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.tools import ToolDefinition, ToolResult
    from sandbox import DockerWorkspace
    from sandbox.checkpoints import FileChange

log = logging.getLogger(__name__)

EventCallback = Callable[[Event], None]
StatusCallback = Callable[[AgentStatus], None]
OutputCallback = Callable[[str, str], None]

# How long an interrupt waits for the interrupted command to come back before giving up on
# it (the sandbox promises well under a second).
INTERRUPT_WAIT_S = 10.0

APP_STOPPED_TEXT = (
    "The app stopped while this tool call was running, so its result is unknown. "
    "Check the current state (files, processes) before relying on it."
)
INTERRUPTED_TEXT = "The user stopped this tool call."
NOT_RUN_INTERRUPTED = "The user stopped the agent before this tool call ran."


class _Job:
    """One blocking piece of work on a worker thread: an LLM request or a tool call."""

    def __init__(self, action: ActionEvent | None = None) -> None:
        self.action = action
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancel = threading.Event()


class ConversationState:
    """A live, thread-safe view of a conversation (``conversation.state``)."""

    def __init__(self, conversation: Conversation) -> None:
        self._c = conversation

    @property
    def id(self) -> str:
        return self._c.id

    @property
    def agent_status(self) -> AgentStatus:
        return self._c._status

    @property
    def status_detail(self) -> str:
        return self._c._status_detail

    @property
    def events(self) -> list[Event]:
        """A copy of the events so far (events are immutable)."""
        with self._c._cond:
            return list(self._c._events)

    @property
    def stats(self) -> ConversationStats:
        with self._c._cond:
            return self._c._stats.model_copy()

    @property
    def confirmation_mode(self) -> bool:
        return self._c._confirmation_mode

    @property
    def title(self) -> str:
        return self._c._title

    @property
    def pending_actions(self) -> list[ActionEvent]:
        """Tool calls that have no result yet (those awaiting confirmation, say)."""
        return pending_actions(self.events)

    def __repr__(self) -> str:
        return f"ConversationState(id={self.id!r}, agent_status={self.agent_status!r})"


class Conversation:
    """A conversation between the user and an Agent working in a Docker container.

    ``workspace`` is a DockerWorkspace, a host folder (bind-mounted at /workspace in a
    container of the default image), or None (a named volume of its own). With
    ``conversation_id`` naming a saved conversation, it is reopened: events, status and
    stats come back and its container is found again by label. The constructor starts
    (or reattaches) the container, so it blocks on Docker: keep it off a GUI thread.

    Pause while idle: ``pause()`` on a conversation that is not running records the pause
    and sets PAUSED at once. ``run()`` always resumes: from PAUSED it carries on where it
    stopped; from WAITING_FOR_CONFIRMATION it approves the pending tool calls.
    """

    def __init__(
        self,
        agent: Agent,
        workspace: DockerWorkspace | str | os.PathLike[str] | None = None,
        *,
        conversation_id: str | None = None,
        persistence_dir: str | os.PathLike[str] | None = None,
        callbacks: Sequence[EventCallback] = (),
        on_status_change: StatusCallback | None = None,
        on_command_output: OutputCallback | None = None,
        max_iterations: int = 100,
        confirmation_mode: bool = False,
    ) -> None:
        from agent.tools import resolve_tools

        self.agent = agent
        self._tools: list[ToolDefinition] = resolve_tools(agent.tools)
        self._tools_by_name = {tool.name: tool for tool in self._tools}
        self._tool_schemas = [tool.openai_schema() for tool in self._tools]
        self._callbacks: list[EventCallback] = list(callbacks)
        self._on_status_change = on_status_change
        self._on_command_output = on_command_output

        # _cond guards the flags and in-memory state; _record_lock orders disk writes.
        # Order: _record_lock may be held while taking _cond, never the other way round.
        self._cond = threading.Condition(threading.Lock())
        self._record_lock = threading.Lock()
        # Held by whoever drives the engine: run(), or interrupt()/reject() when idle.
        self._engine_lock = threading.Lock()
        self._running = False
        self._pause_requested = False
        self._interrupt_requested = False
        self._llm_job: _Job | None = None
        self._tool_job: _Job | None = None
        self._approved: set[str] = set()
        self._closed = False
        self._context = ContextKeeper(self, ContextWindow(agent.llm, self._tool_schemas))
        self._revivals = 0  # containers brought back in this run
        self._unwritten: list[Event] = []  # refused by the disk, written by the next run()
        self._disk_error: PersistenceError | None = None

        self.id = conversation_id or uuid.uuid4().hex
        root = resolve_persistence_dir(persistence_dir)
        self._store = ConversationStore(root / self.id)
        self.persistence_path: Path = self._store.folder
        self.state = ConversationState(self)

        self._events: list[Event] = []
        reopened = self._store.exists()
        if reopened:
            self._events = self._store.load_events()
            saved = self._store.load_state(self._events)
            self._status = saved.agent_status
            self._status_detail = saved.status_detail
            self._stats = saved.stats
            self._title = saved.title
            self._created = saved.created
            self._confirmation_mode = saved.confirmation_mode or confirmation_mode
            self._max_iterations = max_iterations
            spec = saved.workspace
        else:
            self._store.create()
            self._status = AgentStatus.IDLE
            self._status_detail = ""
            self._stats = ConversationStats()
            self._title = ""
            self._created = datetime.now(UTC)
            self._confirmation_mode = confirmation_mode
            self._max_iterations = max_iterations
            spec = WorkspaceSpec()

        self.workspace: DockerWorkspace = self._make_workspace(workspace, spec)
        self.workspace.start()
        try:
            self._spec = self._spec_of(self.workspace)
            self._save_state()
            self._checkpoints = CheckpointKeeper(self)
            if reopened:
                self._recover()
                self._checkpoints.recover()
        except BaseException:
            # Nobody holds this conversation: its container must not run on unowned.
            with contextlib.suppress(Exception):
                self.workspace.close()
            self._store.close()
            raise

    # --- the public API --------------------------------------------------------------------

    def send_message(self, text: str) -> MessageEvent:
        """Record a user message now (any thread, any status); the next LLM request has it."""
        event = MessageEvent(role="user", text=text)
        if not self._title and text.strip():
            self._title = make_title(text)
        self._record(event)
        self._save_state()
        return event

    def run(self) -> AgentStatus:
        """Drive the agent until FINISHED, PAUSED, WAITING_FOR_CONFIRMATION, ERROR or STUCK.

        From PAUSED it resumes (thawing and finishing a command paused mid-way); from
        WAITING_FOR_CONFIRMATION it approves the pending tool calls; after ERROR it retries
        the step that failed.
        """
        with self._cond:
            if self._running:
                raise RuntimeError("run() is already running for this conversation")
            if self._closed:
                raise RuntimeError("this conversation was closed")
            self._running = True
        with self._engine_lock:
            # Flags are not cleared here: a pause() that came after run() was called counts.
            with self._cond:
                start_status = self._status
            try:
                self._write_unwritten()
                outcome = self._run(start_status)
                if outcome != AgentStatus.PAUSED:
                    # A run that ended on its own returns with its last step's checkpoint
                    # saved (conversation.checkpoints lists it); a pause never waits for it.
                    self._checkpoints.settle(
                        lambda: self._pause_requested or self._interrupt_requested
                    )
                return outcome
            except PersistenceError as exc:
                return self._pause_for_disk(exc)
            except Exception as exc:
                log.exception("the conversation loop failed")
                try:
                    message = f"Internal error: {exc!r}"
                    self._record(AgentErrorEvent(message=message, source="internal"))
                    self._set_status(AgentStatus.ERROR, f"Internal error: {exc}")
                except PersistenceError as disk:
                    return self._pause_for_disk(disk)
                return AgentStatus.ERROR
            finally:
                with self._cond:
                    late_interrupt = self._interrupt_requested
                    self._running = False
                    self._pause_requested = False
                    self._interrupt_requested = False
                if late_interrupt and self._tool_job is not None:
                    # Stop came as the run was pausing: the command must not stay frozen.
                    self._interrupt_now()

    def pause(self) -> None:
        """Ask the run to pause. Non-blocking when a run is active; idempotent.

        When no run is active, an IDLE conversation (or one waiting for confirmation)
        records the pause itself and is PAUSED at once; otherwise it is a no-op.
        """
        with self._cond:
            if self._running:
                self._pause_requested = True
                self._cond.notify_all()
                return
            # Only a conversation that is about to run can be paused ahead of it: a finished,
            # failed or stuck one keeps its status (the GUI pauses everything on quit).
            idle = (AgentStatus.IDLE, AgentStatus.WAITING_FOR_CONFIRMATION)
            if self._status not in idle or self._closed:
                return
        self._record(PauseEvent())
        self._set_status(AgentStatus.PAUSED, "Paused before the run started")

    def interrupt(self) -> None:
        """Stop now: end the command in flight (SIGINT), abandon the LLM request, give every
        pending tool call a result, and leave the conversation PAUSED."""
        with self._cond:
            if self._running:
                self._interrupt_requested = True
                self._cond.notify_all()
                return
        with self._engine_lock:
            self._interrupt_now()

    def reject(self, reason: str = "") -> None:
        """Reject the tool calls awaiting confirmation; the model sees ``reason``.

        The status becomes IDLE: ``run()`` then lets the model answer the rejection.
        """
        with self._engine_lock:
            text = "The user rejected this action" + (
                f". Reason: {reason}" if reason.strip() else "."
            )
            answers = answers_for_pending(self.state.events, text, "rejected")
            if not answers:
                return
            for answer in answers:
                self._record(RejectionEvent(tool_call_id=answer.tool_call_id, reason=reason))
                self._record(answer)
            self._approved.clear()
            self._set_status(AgentStatus.IDLE, "Rejected; run() to let the agent go on")

    def set_confirmation_mode(self, on: bool) -> None:
        self._confirmation_mode = on
        self._save_state()

    def add_callback(self, callback: EventCallback) -> None:
        self._callbacks.append(callback)

    def close(self, why: str = "The conversation was closed while it ran.") -> None:
        """Stop any run, end a command left paused, stop the container (data is kept).
        ``why``: the result a command still running gets (the app quitting says so)."""
        if self._closed:
            return
        with self._cond:
            if self._running:  # only a live run is paused; a finished one keeps its status
                self._pause_requested = True
                self._cond.notify_all()
        with self._engine_lock:
            with self._cond:
                self._closed = True
            if self._tool_job is not None:
                self._interrupt_now(note=why)
            self._checkpoints.close()
            with contextlib.suppress(Exception):
                self.workspace.close()
            self._save_state()
            self._store.close()

    def delete(self, remove_container: bool = True) -> None:
        """Close, remove the container and its volume, and delete the saved conversation
        (its checkpoints with it)."""
        self._checkpoints.delete()
        self.close()
        if remove_container:
            with contextlib.suppress(Exception):
                self.workspace.remove(volume=True)
        self._store.remove()

    @property
    def stats(self) -> ConversationStats:
        return self.state.stats

    # --- checkpoints (agent.checkpoints has the rules) -------------------------------------

    @property
    def checkpoints(self) -> list[Checkpoint]:
        """Oldest first: [0] is /workspace as the conversation found it, then one after
        each tool call that ran."""
        return self._checkpoints.checkpoints

    def rewind(self, checkpoint_id: str) -> None:
        """/workspace back to a checkpoint byte for byte; the history goes on from there
        (later events stay in the log as an abandoned branch). Status: PAUSED."""
        self._checkpoints.rewind(checkpoint_id)

    def fork(self, checkpoint_id: str) -> Conversation:
        """A new conversation (own id, container, volume) with the events up to that
        checkpoint and /workspace as it was there. This one is untouched."""
        return self._checkpoints.fork(checkpoint_id)

    def changes(self, since: str | None = None) -> list[FileChange]:
        """What changed in /workspace since the first checkpoint (or the one named)."""
        return self._checkpoints.changes(since)

    @property
    def checkpoint_keeper(self) -> CheckpointKeeper:
        return self._checkpoints

    # --- the loop --------------------------------------------------------------------------

    def _run(self, start_status: AgentStatus) -> AgentStatus:
        if start_status == AgentStatus.FINISHED and not self._has_new_user_input():
            return AgentStatus.FINISHED
        if not any(isinstance(e, MessageEvent) for e in self.state.events):
            return self._status
        if start_status == AgentStatus.WAITING_FOR_CONFIRMATION:
            self._approved.update(a.tool_call_id for a in self.state.pending_actions)
        if start_status == AgentStatus.PAUSED or self._tool_job is not None:
            self._record(ResumeEvent())
        self._checkpoints.before_run()
        self._set_status(AgentStatus.RUNNING)
        self._revivals = 0

        # Resuming releases the container, however it was held: a command paused mid-way,
        # or a container found frozen on reopen (reopening itself never thaws it).
        with contextlib.suppress(Exception):
            self.workspace.thaw()
        iterations = 0
        while True:
            if self._tool_job is not None:
                # A command paused mid-way: it carries on where it stood.
                outcome = self._await_tool(self._tool_job)
                if outcome is not None:
                    return outcome
                continue
            with self._cond:
                interrupt = self._interrupt_requested
                pause = self._pause_requested
            if interrupt:
                return self._interrupt_now()
            if pause:
                return self._paused("Paused between steps")

            pending = self.state.pending_actions
            if pending:
                action = pending[0]
                if self._confirmation_mode and action.tool_call_id not in self._approved:
                    self._set_status(
                        AgentStatus.WAITING_FOR_CONFIRMATION,
                        f"Waiting for confirmation of {action.tool_name}",
                    )
                    return AgentStatus.WAITING_FOR_CONFIRMATION
                outcome = self._execute(action)
                if outcome is not None:
                    return outcome
                continue

            if iterations >= self._max_iterations:
                message = (
                    f"Stopped after {self._max_iterations} steps in one run (the iteration "
                    "limit). Send a message or run again to let the agent continue."
                )
                self._record(AgentErrorEvent(message=message, source="iteration_limit"))
                self._set_status(AgentStatus.ERROR, message)
                return AgentStatus.ERROR
            iterations += 1
            outcome = self._step()
            if outcome is not None:
                return outcome

    def _step(self) -> AgentStatus | None:
        """One LLM request (the history condensed first if it would not fit). Returns a
        status when the run should end."""
        prepared = self._context.prepare_request()
        if isinstance(prepared, AgentStatus):
            return prepared
        events, request = prepared
        request_count = len(events)
        llm = self.agent.llm
        asked = self._ask_llm(
            lambda cancel: llm.completion(request.messages, self._tool_schemas, cancel=cancel),
            "Paused while waiting for the model; it will be asked again",
        )
        if isinstance(asked, AgentStatus):
            return asked
        job = asked

        if job.error is not None:
            error = job.error
            if isinstance(error, LLMError) and error.context_exceeded:
                return self._context.after_refusal(error, events, request)
            retryable = error.retryable if isinstance(error, LLMError) else False
            message = str(error) if isinstance(error, LLMError) else f"LLM call failed: {error!r}"
            self._record(AgentErrorEvent(message=message, source="llm", retryable=retryable))
            self._set_status(AgentStatus.ERROR, message)
            return AgentStatus.ERROR

        self._context.accepted()
        response: LLMResponse = job.result
        self._count_usage(response.usage, step=True)

        if not response.tool_calls:
            self._record(
                MessageEvent(
                    role="assistant",
                    text=response.content or "",
                    request_event_count=request_count,
                    usage=response.usage,
                )
            )
            self._save_state()
            if self._has_user_message_after(request_count):
                return None  # a message came in while the model answered: answer it too
            self._set_status(AgentStatus.FINISHED)
            return AgentStatus.FINISHED

        response_id = uuid.uuid4().hex
        for index, call in enumerate(response.tool_calls):
            arguments: dict[str, Any] = {}
            raw: str | None = None
            try:
                parsed = json.loads(call.arguments) if call.arguments.strip() else {}
                if isinstance(parsed, dict):
                    arguments = parsed
                else:
                    raw = call.arguments
            except json.JSONDecodeError:
                raw = call.arguments
            self._record(
                ActionEvent(
                    tool_call_id=call.id,
                    tool_name=call.name,
                    arguments=arguments,
                    raw_arguments=raw,
                    thought=(response.content or "") if index == 0 else "",
                    response_id=response_id,
                    request_event_count=request_count,
                    usage=response.usage if index == 0 else None,
                )
            )
        self._save_state()
        return None

    def _ask_llm(
        self, call: Callable[[threading.Event], Any], paused_detail: str
    ) -> _Job | AgentStatus:
        """Run an LLM call on a worker thread and wait for it, a pause or an interrupt.
        Returns the finished job, or the status the run ends with (the call abandoned:
        whatever it brings back later is dropped)."""
        job = _Job()

        def work() -> None:
            try:
                result: Any = call(job.cancel)
                error = None
            except LLMCancelled:
                return
            except BaseException as exc:  # reported to the loop, which decides
                result, error = None, exc
            with self._cond:
                job.result, job.error, job.done = result, error, True
                self._cond.notify_all()

        with self._cond:
            self._llm_job = job
        threading.Thread(target=work, name=f"llm-{self.id[:8]}", daemon=True).start()
        outcome = self._wait(job)
        with self._cond:
            self._llm_job = None
        if outcome == "done":
            return job
        job.cancel.set()
        if outcome == "interrupt":
            return self._interrupt_now()
        return self._paused(paused_detail)

    def _count_usage(self, usage: LLMUsage, *, step: bool, condensation: bool = False) -> None:
        with self._cond:
            stats = self._stats
            stats.steps += 1 if step else 0
            stats.condensations += 1 if condensation else 0
            stats.llm_calls += 1
            stats.prompt_tokens += usage.prompt_tokens
            stats.completion_tokens += usage.completion_tokens
            stats.cached_tokens += usage.cached_tokens
            stats.cost += usage.cost
            stats.llm_latency_s += usage.latency_s

    def _execute(self, action: ActionEvent) -> AgentStatus | None:
        """Run one pending tool call. Returns a status when the run should end."""
        tool = self._tools_by_name.get(action.tool_name)
        if tool is None:
            names = ", ".join(sorted(self._tools_by_name))
            self._observe_error(
                action, f"Unknown tool {action.tool_name!r}. The tools are: {names}."
            )
            return self._check_stuck()
        if action.raw_arguments is not None:
            self._observe_error(
                action,
                f"The arguments of `{action.tool_name}` are not a valid JSON object: "
                f"{action.raw_arguments[:500]!r}. Send a JSON object, for example "
                f'{{"command": "ls"}}.',
            )
            return self._check_stuck()

        if tool.name == "finish":
            result = tool.run(action.arguments, self.workspace)
            self._observe(action, result)
            if result.is_error:
                return None
            self._finish_rest(action)
            if self._has_user_message_after(action.request_event_count or 0):
                return None
            self._set_status(AgentStatus.FINISHED)
            return AgentStatus.FINISHED

        # The last tool call's checkpoint first, so this call's changes stay out of it.
        if not self._checkpoints.settle(lambda: self._pause_requested or self._interrupt_requested):
            return None  # the loop sees the pause or the stop; the call runs on resume
        job = _Job(action)
        on_output = None
        if self._on_command_output is not None:
            callback, call_id = self._on_command_output, action.tool_call_id

            def on_output(chunk: str) -> None:
                with contextlib.suppress(Exception):
                    callback(call_id, chunk)

        def work() -> None:
            try:
                result: Any = tool.run(action.arguments, self.workspace, on_output)
                error = None
            except BaseException as exc:
                result, error = None, exc
            with self._cond:
                job.result, job.error, job.done = result, error, True
                self._cond.notify_all()

        with self._cond:
            self._tool_job = job
        threading.Thread(target=work, name=f"tool-{self.id[:8]}", daemon=True).start()
        return self._await_tool(job)

    def _await_tool(self, job: _Job) -> AgentStatus | None:
        outcome = self._wait(job)
        if outcome == "interrupt":
            return self._interrupt_now()
        if outcome == "pause":
            hold, detail = hold_command(self.workspace)  # never claims a freeze that failed
            return self._paused(detail, hold)
        with self._cond:
            self._tool_job = None
        assert job.action is not None
        if job.error is not None:
            if self._revive_container(job.action, job.error):
                return self._check_stuck()
            self._observe_error(job.action, f"The sandbox failed: {job.error}")
            if type(job.error).__name__ == "ContainerGoneError":
                message = f"The container is gone: {job.error}"
                self._record(AgentErrorEvent(message=message, source="sandbox"))
                self._set_status(AgentStatus.ERROR, message)
                return AgentStatus.ERROR
        else:
            self._checkpoints.after_tool(self._observe(job.action, job.result))
        return self._check_stuck()

    def _revive_container(self, action: ActionEvent, error: BaseException) -> bool:
        """A container gone under a tool call is brought back (agent/recovery.py): the call's
        result tells the model what was lost, a NoticeEvent tells the user."""
        if type(error).__name__ != "ContainerGoneError" or self._revivals >= MAX_REVIVALS_PER_RUN:
            return False
        revival = revive(self.workspace, error)
        if revival is None:
            return False
        self._revivals += 1
        self._observe_error(action, revival.for_model)
        self._record(NoticeEvent(title=revival.title, text=revival.detail, source="container"))
        return True

    def _wait(self, job: _Job) -> str:
        """Block until the job is done or a pause/interrupt is requested."""
        with self._cond:
            while True:
                if self._interrupt_requested:
                    return "interrupt"
                if job.done:
                    return "done"
                if self._pause_requested:
                    return "pause"
                self._cond.wait()

    def _paused(self, detail: str, hold: HoldWord | None = None) -> AgentStatus:
        self._record(PauseEvent(hold=hold))
        self._set_status(AgentStatus.PAUSED, detail)
        return AgentStatus.PAUSED

    def _interrupt_now(self, note: str = INTERRUPTED_TEXT) -> AgentStatus:
        """Abandon the LLM request, end the command, answer every pending call. Holds the
        engine (the run thread, or the caller of interrupt() while no run is active)."""
        with self._cond:
            llm_job, self._llm_job = self._llm_job, None
            tool_job = self._tool_job
            self._interrupt_requested = False
        if llm_job is not None:
            llm_job.cancel.set()
        if tool_job is not None:
            try:
                self.workspace.interrupt()
            except Exception as exc:
                log.warning("could not interrupt the command: %s", exc)
            with self._cond:
                self._cond.wait_for(lambda: tool_job.done, timeout=INTERRUPT_WAIT_S)
                self._tool_job = None
            assert tool_job.action is not None
            result = tool_job.result if tool_job.done and tool_job.error is None else None
            content = note
            if result is not None and result.content.strip():
                content = f"{result.content.rstrip()}\n\n{note}"
            stopped = ObservationEvent(
                tool_call_id=tool_job.action.tool_call_id,
                tool_name=tool_job.action.tool_name,
                content=content,
                is_error=True,
                exit_code=result.exit_code if result is not None else None,
                cwd=result.cwd if result is not None else None,
                ended="interrupted",
            )
            self._record(stopped)
            self._checkpoints.after_tool(stopped)  # it ran part way: that is worth keeping
        self._answer_pending(NOT_RUN_INTERRUPTED, "interrupted")
        self._record(InterruptEvent())
        self._set_status(AgentStatus.PAUSED, "Stopped by the user")
        return AgentStatus.PAUSED

    # --- results ---------------------------------------------------------------------------

    def _observe(self, action: ActionEvent, result: ToolResult) -> ObservationEvent:
        event = ObservationEvent(
            tool_call_id=action.tool_call_id,
            tool_name=action.tool_name,
            content=result.content,
            is_error=result.is_error,
            exit_code=result.exit_code,
            cwd=result.cwd,
            diff=result.diff,
            ended=result.ended,
        )
        self._record(event)
        return event

    def _observe_error(self, action: ActionEvent, text: str) -> None:
        self._record(
            ObservationEvent(
                tool_call_id=action.tool_call_id,
                tool_name=action.tool_name,
                content=text,
                is_error=True,
            )
        )

    def _answer_pending(self, content: str, ended: str | None = None) -> None:
        for answer in answers_for_pending(self.state.events, content, ended):
            self._record(answer)

    def _finish_rest(self, finish: ActionEvent) -> None:
        """Calls the model made after `finish` in the same reply are not run."""
        self._answer_pending("Not run: the task was finished before this call.")

    def _check_stuck(self) -> AgentStatus | None:
        if not is_stuck(self.state.events):
            return None
        message = (
            f"The agent repeated the same action with the same result {REPEATS} times and "
            "looks stuck. Send a message with a hint, then run again."
        )
        self._record(AgentErrorEvent(message=message, source="stuck"))
        self._set_status(AgentStatus.STUCK, message)
        return AgentStatus.STUCK

    def _has_user_message_after(self, index: int) -> bool:
        events = self.state.events
        return any(isinstance(e, MessageEvent) and e.role == "user" for e in events[index:])

    def _has_new_user_input(self) -> bool:
        """A user message after the run that last finished."""
        events = self.state.events
        for event in reversed(events):
            if isinstance(event, MessageEvent) and event.role == "user":
                return True
            if isinstance(event, StatusEvent) and event.status == AgentStatus.FINISHED:
                return False
        return False

    # --- recording -------------------------------------------------------------------------

    def _record(self, event: Event) -> None:
        """On disk (fsynced), then in memory, then to the callbacks (no lock held).

        When the disk refuses it (full, read-only), the event waits in memory, in order,
        for the next run() to write it: a tool call's result is never lost, nor its call
        run twice. PersistenceError tells the caller."""
        with self._record_lock:
            if self._unwritten:
                self._unwritten.append(event)
                raise self._disk_error or PersistenceError(self._store.folder, OSError())
            try:
                self._store.append(event)
            except PersistenceError as exc:
                self._unwritten.append(event)
                self._disk_error = exc
                raise
            with self._cond:
                self._events.append(event)
        self._tell(event)

    def _write_unwritten(self) -> None:
        """Write the events a full or read-only disk refused, oldest first."""
        with self._record_lock:
            waiting, self._unwritten = self._unwritten, []
        for number, event in enumerate(waiting):
            try:
                self._record(event)
            except PersistenceError:
                with self._record_lock:
                    self._unwritten[:0] = waiting[number + 1 :]
                raise

    def _pause_for_disk(self, exc: PersistenceError) -> AgentStatus:
        """PAUSED with the disk's error, in memory (the disk cannot take it); run() retries."""
        log.warning("the conversation cannot be written: %s", exc)
        with self._cond:
            self._status, self._status_detail = AgentStatus.PAUSED, str(exc)
        with contextlib.suppress(Exception):
            self._save_state()
        if self._on_status_change is not None:
            with contextlib.suppress(Exception):
                self._on_status_change(AgentStatus.PAUSED)
        return AgentStatus.PAUSED

    def _tell(self, event: Event) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("an event callback failed")

    def _set_status(self, status: AgentStatus, detail: str = "") -> None:
        with self._cond:
            if self._status == status and self._status_detail == detail:
                return
            self._status = status
            self._status_detail = detail
        self._record(StatusEvent(status=status, detail=detail))
        self._save_state()
        if self._on_status_change is not None:
            try:
                self._on_status_change(status)
            except Exception:
                log.exception("the status callback failed")

    def _save_state(self) -> None:
        with self._cond:
            llm = self.agent.llm
            state = PersistedState(
                id=self.id,
                title=self._title,
                created=self._created,
                updated=datetime.now(UTC),
                agent_status=self._status,
                status_detail=self._status_detail,
                stats=self._stats.model_copy(),
                confirmation_mode=self._confirmation_mode,
                max_iterations=self._max_iterations,
                workspace=getattr(self, "_spec", WorkspaceSpec()),
                llm=LLMSpec(model=llm.model, base_url=llm.base_url, usage_id=llm.usage_id),
            )
        self._store.save_state(state)

    # --- workspace and recovery ------------------------------------------------------------

    def _make_workspace(
        self,
        workspace: DockerWorkspace | str | os.PathLike[str] | None,
        spec: WorkspaceSpec,
    ) -> DockerWorkspace:
        if workspace is not None and not isinstance(workspace, (str, os.PathLike)):
            # A DockerWorkspace (or anything that behaves as one).
            if getattr(workspace, "conversation_id", None) is None:
                workspace.conversation_id = self.id
            self._spec = self._spec_of(workspace, started=False)
            return workspace
        from sandbox import DockerWorkspace

        # A reopened conversation keeps its saved network, limits and pause mode.
        kwargs: dict[str, Any] = {"conversation_id": self.id, **spec.options()}
        if workspace is not None:
            kwargs["host_dir"] = str(Path(workspace).expanduser().resolve())
        elif spec.host_dir:
            kwargs["host_dir"] = spec.host_dir
        elif spec.volume:
            kwargs["volume"] = spec.volume
        made = DockerWorkspace(spec.image, **kwargs)
        self._spec = self._spec_of(made, started=False)
        return made

    @staticmethod
    def _spec_of(workspace: DockerWorkspace, started: bool = True) -> WorkspaceSpec:
        def attr(name: str) -> Any:
            try:
                return getattr(workspace, name, None)
            except Exception:  # a property that needs start()
                return None

        host_dir = attr("host_dir")
        return WorkspaceSpec(
            image=attr("image"),
            host_dir=str(host_dir) if host_dir is not None else None,
            volume=attr("volume") if not host_dir else None,
            network=bool(attr("network")) if attr("network") is not None else True,
            memory=attr("memory"),
            cpus=attr("cpus"),
            pids_limit=attr("pids_limit"),
            pause_mode=str(attr("pause_mode")) if attr("pause_mode") is not None else None,
        )

    def _recover(self) -> None:
        """After a crash or a quit: a run left RUNNING becomes PAUSED, and each tool call
        left without a result gets one. A container left frozen stays frozen (the status
        says so) until the user resumes: reopening never thaws it behind their back."""
        waiting = self._status == AgentStatus.WAITING_FOR_CONFIRMATION
        if not waiting:
            self._answer_pending(APP_STOPPED_TEXT, "app_stopped")
        frozen = bool(getattr(self.workspace, "frozen", False))
        if self._status == AgentStatus.RUNNING:
            self._set_status(
                AgentStatus.PAUSED,
                "The app stopped while the agent ran; "
                + (
                    "the container is still frozen; run() thaws it and resumes"
                    if frozen
                    else "run() resumes"
                ),
            )
        elif frozen and self._status == AgentStatus.PAUSED:
            self._set_status(AgentStatus.PAUSED, "Paused; the container is frozen")
