"""The loop of a run: ask the model, run the tool calls it made, record what happened, until
the run ends (finished, paused, stopped, waiting for confirmation, failed or stuck).

``Conversation.run()`` holds the engine's lock around ``Loop.run``; every blocking piece
runs on a worker thread through the engine (engine.py), so a pause or a stop ends the wait
at once (conversation.py's docstring tells the whole story).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from agent.context.history import pending_actions
from agent.conversation.engine import Engine, Job
from agent.conversation.pausing import hold_command
from agent.conversation.recovery import MAX_REVIVALS_PER_RUN, revive
from agent.conversation.results import (
    actions_of,
    error_observation,
    has_new_user_input,
    has_user_message_after,
    observation_of,
    stopped_observation,
)
from agent.conversation.stuck import REPEATS, is_stuck
from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    InterruptEvent,
    MessageEvent,
    NoticeEvent,
    ResumeEvent,
)
from agent.llm import LLMError, LLMResponse
from agent.mcp.config import ToolApproval
from agent.mcp.tools import ABANDONED_TEXT, FindTools, refused_text
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.agent import Agent
    from agent.context.keeper import ContextKeeper
    from agent.conversation.checkpoints import CheckpointKeeper
    from agent.conversation.mcp import McpKeeper, McpToolLike
    from agent.tools import ToolDefinition

log = logging.getLogger(__name__)

OutputCallback = Callable[[str, str], None]

# How long an interrupt waits for the interrupted command to come back before giving up on
# it (the sandbox promises well under a second).
INTERRUPT_WAIT_S = 10.0

INTERRUPTED_TEXT = "The user stopped this tool call."


def step_limit_detail(limit: int) -> str:
    return f"Paused at the step limit ({limit}): Resume continues"


NOT_RUN_INTERRUPTED = "The user stopped the agent before this tool call ran."


class Loop:
    """The steps of a conversation's runs."""

    def __init__(
        self,
        engine: Engine,
        agent: Agent,
        tools: list[ToolDefinition],
        context: ContextKeeper,
        checkpoints: CheckpointKeeper,
        on_command_output: OutputCallback | None,
        mcp: McpKeeper,
    ) -> None:
        self._e = engine
        self._agent = agent
        self._tools_by_name = {tool.name: tool for tool in tools}
        self._tool_schemas = [tool.openai_schema() for tool in tools]
        self._context = context
        self._checkpoints = checkpoints
        self._on_command_output = on_command_output
        self._revivals = 0  # containers brought back in this run
        self._mcp = mcp

    def run(self, start_status: AgentStatus) -> AgentStatus:
        e = self._e
        if start_status == AgentStatus.FINISHED and not has_new_user_input(e.events):
            return AgentStatus.FINISHED
        if not any(isinstance(event, MessageEvent) for event in e.events):
            return e.status
        if start_status == AgentStatus.WAITING_FOR_CONFIRMATION:
            e.approved.update(a.tool_call_id for a in pending_actions(e.events))
        if start_status == AgentStatus.PAUSED or e.tool_job is not None:
            e.record(ResumeEvent())
        self._checkpoints.before_run()
        e.set_status(AgentStatus.RUNNING)
        self._revivals = 0

        # Resuming releases the container, however it was held: a command paused mid-way,
        # or a container found frozen on reopen (reopening itself never thaws it).
        with contextlib.suppress(Exception):
            self._e.workspace.thaw()
        outcome = self._await_mcp()
        if outcome is not None:
            return outcome
        iterations = 0
        while True:
            if e.tool_job is not None:
                # A command paused mid-way: it carries on where it stood.
                outcome = self._await_tool(e.tool_job)
                if outcome is not None:
                    return outcome
                continue
            with e.cond:
                interrupt = e.interrupt_requested
                pause = e.pause_requested
            if interrupt:
                return self.interrupt_now()
            if pause:
                return e.paused("Paused between steps")

            pending = pending_actions(e.events)
            if pending:
                action = pending[0]
                approval = self._mcp.approval(action.tool_name)
                if approval is ToolApproval.NEVER:
                    e.record(error_observation(action, refused_text(action.tool_name)))
                    continue
                asks = e.confirmation_mode or approval is ToolApproval.ASK
                if asks and action.tool_call_id not in e.approved:
                    e.set_status(
                        AgentStatus.WAITING_FOR_CONFIRMATION,
                        f"Waiting for confirmation of {action.tool_name}",
                    )
                    return AgentStatus.WAITING_FOR_CONFIRMATION
                outcome = self._execute(action)
                if outcome is not None:
                    return outcome
                continue

            if iterations >= e.max_iterations:
                # A pause, not a failure: nothing went wrong, and Resume (run() again) takes
                # another max_iterations steps.
                return e.paused(step_limit_detail(e.max_iterations))
            iterations += 1
            outcome = self._step()
            if outcome is not None:
                return outcome

    def _step(self) -> AgentStatus | None:
        """One LLM request (the history condensed first if it would not fit). Returns a
        status when the run should end."""
        e = self._e
        prepared = self._context.prepare_request()
        if isinstance(prepared, AgentStatus):
            return prepared
        events, request = prepared
        request_count = len(events)
        llm = self._agent.llm
        e.request_sent(request_count)
        asked = e.ask_llm(
            lambda cancel: llm.completion(
                request.messages,
                self._tool_schemas,
                cancel=cancel,
                on_delta=e.delta_teller(cancel),
            ),
            "Paused while waiting for the model; it will be asked again",
        )
        if isinstance(asked, AgentStatus):
            return asked
        if asked.error is not None:
            error = asked.error
            if isinstance(error, LLMError) and error.context_exceeded:
                return self._context.after_refusal(error, events, request)
            retryable = error.retryable if isinstance(error, LLMError) else False
            message = str(error) if isinstance(error, LLMError) else f"LLM call failed: {error!r}"
            problem = error.problem if isinstance(error, LLMError) else None
            e.record(
                AgentErrorEvent(
                    message=message,
                    source="llm",
                    retryable=retryable,
                    hint=problem.hint if problem is not None else "",
                    in_settings=problem is not None and problem.in_settings,
                )
            )
            e.set_status(AgentStatus.ERROR, message)
            return AgentStatus.ERROR

        self._context.accepted()
        response: LLMResponse = asked.result
        e.count_usage(response.usage, step=True)
        if not response.tool_calls:
            e.record(
                MessageEvent(
                    role="assistant",
                    text=response.content or "",
                    request_event_count=request_count,
                    usage=response.usage,
                    reasoning_content=response.reasoning_content,
                )
            )
            e.save_state()
            if has_user_message_after(e.events, request_count):
                return None  # a message came in while the model answered: answer it too
            e.set_status(AgentStatus.FINISHED)
            return AgentStatus.FINISHED
        for action in actions_of(response, request_count):
            e.record(action)
        e.save_state()
        return None

    def _execute(self, action: ActionEvent) -> AgentStatus | None:
        """Run one pending tool call. Returns a status when the run should end."""
        e = self._e
        tool = self._tools_by_name.get(action.tool_name)
        mcp_tool = self._mcp.tools.get(action.tool_name)
        if tool is None and mcp_tool is None:
            names = ", ".join(sorted([*self._tools_by_name, *self._mcp.tools]))
            text = f"Unknown tool {action.tool_name!r}. The tools are: {names}."
            e.record(error_observation(action, text))
            return self._check_stuck()
        if action.raw_arguments is not None:
            text = (
                f"The arguments of `{action.tool_name}` are not a valid JSON object: "
                f"{action.raw_arguments[:500]!r}. Send a JSON object, for example "
                f'{{"command": "ls"}}.'
            )
            e.record(error_observation(action, text))
            return self._check_stuck()
        if mcp_tool is not None:
            return self._execute_mcp(action, mcp_tool)
        assert tool is not None

        if tool.name == "finish":
            result = tool.run(action.arguments, self._e.workspace)
            e.record(observation_of(action, result))
            if result.is_error:
                return None
            # Calls the model made after `finish` in the same reply are not run.
            e.answer_pending("Not run: the task was finished before this call.")
            if has_user_message_after(e.events, action.request_event_count or 0):
                return None
            e.set_status(AgentStatus.FINISHED)
            return AgentStatus.FINISHED

        # The last tool call's checkpoint first, so this call's changes stay out of it.
        if not self._checkpoints.settle(e.stop_requested):
            return None  # the loop sees the pause or the stop; the call runs on resume
        job = Job(action)
        on_output = None
        if self._on_command_output is not None:
            callback, call_id = self._on_command_output, action.tool_call_id

            def on_output(chunk: str) -> None:
                with contextlib.suppress(Exception):
                    callback(call_id, chunk)

        with e.cond:
            e.tool_job = job
        e.start(job, lambda: tool.run(action.arguments, self._e.workspace, on_output), "tool")
        return self._await_tool(job)

    def _await_tool(self, job: Job) -> AgentStatus | None:
        e = self._e
        outcome = e.wait(job)
        if outcome == "interrupt":
            return self.interrupt_now()
        if outcome == "pause":
            hold, detail = hold_command(self._e.workspace)  # never claims a freeze that failed
            if self._is_mcp(job):  # abandoned (the server, frozen with the container, stays)
                self._abandon_mcp(job)
            return e.paused(detail, hold)
        with e.cond:
            e.tool_job = None
        assert job.action is not None
        if job.error is not None:
            if self._revive_container(job.action, job.error):
                return self._check_stuck()
            e.record(error_observation(job.action, f"The sandbox failed: {job.error}"))
            if type(job.error).__name__ == "ContainerGoneError":
                message = f"The container is gone: {job.error}"
                e.record(AgentErrorEvent(message=message, source="sandbox"))
                e.set_status(AgentStatus.ERROR, message)
                return AgentStatus.ERROR
        else:
            observation = observation_of(job.action, job.result)
            e.record(observation)
            self._checkpoints.after_tool(observation)
        return self._check_stuck()

    def _revive_container(self, action: ActionEvent, error: BaseException) -> bool:
        """A container gone under a tool call is brought back (conversation/recovery.py):
        the call's result tells the model what was lost, a NoticeEvent tells the user."""
        if type(error).__name__ != "ContainerGoneError" or self._revivals >= MAX_REVIVALS_PER_RUN:
            return False
        revival = revive(self._e.workspace, error)
        if revival is None:
            return False
        self._revivals += 1
        self._e.record(error_observation(action, revival.for_model))
        self._e.record(NoticeEvent(title=revival.title, text=revival.detail, source="container"))
        return True

    def interrupt_now(self, note: str = INTERRUPTED_TEXT) -> AgentStatus:
        """Abandon the LLM request, end the command, answer every pending call. Holds the
        engine (the run thread, or the caller of interrupt() while no run is active)."""
        e = self._e
        with e.cond:
            llm_job, e.llm_job = e.llm_job, None
            tool_job = e.tool_job
            e.interrupt_requested = False
        if llm_job is not None:
            llm_job.cancel.set()
        if tool_job is not None and self._is_mcp(tool_job):
            tool_job.cancel.set()  # Stop never ends an MCP server, only the call
        elif tool_job is not None:
            try:
                self._e.workspace.interrupt()
            except Exception as exc:
                log.warning("could not interrupt the command: %s", exc)
            with e.cond:
                e.cond.wait_for(lambda: tool_job.done, timeout=INTERRUPT_WAIT_S)
                e.tool_job = None
            assert tool_job.action is not None
            result = tool_job.result if tool_job.done and tool_job.error is None else None
            stopped = stopped_observation(tool_job.action, result, note)
            e.record(stopped)
            self._checkpoints.after_tool(stopped)  # it ran part way: that is worth keeping
        e.answer_pending(NOT_RUN_INTERRUPTED, "interrupted")
        e.record(InterruptEvent())
        e.set_status(AgentStatus.PAUSED, "Stopped by the user")
        return AgentStatus.PAUSED

    # --- MCP (agent/conversation/mcp.py) ----------------------------------------------------

    def _await_mcp(self) -> AgentStatus | None:
        """Before the first step: the MCP servers started, their tools offered."""
        e, mcp = self._e, self._mcp
        if not mcp.started:
            job = Job()
            e.start(job, lambda: mcp.wait_started(job.cancel), "mcp-wait")
            outcome = e.wait(job)
            if outcome != "done":
                job.cancel.set()
                if outcome == "interrupt":
                    return self.interrupt_now()
                return e.paused("Paused while the MCP servers started")
        if mcp.offer():
            self._tool_schemas = [*self._tool_schemas, *mcp.schemas]
            self._context.window.set_tools(self._tool_schemas)
        return None

    def _execute_mcp(self, action: ActionEvent, tool: McpToolLike) -> AgentStatus | None:
        e = self._e
        if isinstance(tool, FindTools):
            e.record(observation_of(action, tool.call(action.arguments)))
            return self._check_stuck()
        if not self._checkpoints.settle(e.stop_requested):
            return None
        job = Job(action)
        with e.cond:
            e.tool_job = job
        e.start(job, lambda: tool.call(action.arguments, job.cancel), "mcp-call")
        return self._await_tool(job)

    def _is_mcp(self, job: Job) -> bool:
        return job.action is not None and job.action.tool_name in self._mcp.tools

    def _abandon_mcp(self, job: Job) -> None:
        job.cancel.set()
        with self._e.cond:
            self._e.tool_job = None
        assert job.action is not None
        self._e.record(stopped_observation(job.action, None, ABANDONED_TEXT))

    def _check_stuck(self) -> AgentStatus | None:
        if not is_stuck(self._e.events):
            return None
        message = (
            f"The agent repeated the same action with the same result {REPEATS} times and "
            "looks stuck. Send a message with a hint, then run again."
        )
        self._e.record(AgentErrorEvent(message=message, source="stuck"))
        self._e.set_status(AgentStatus.STUCK, message)
        return AgentStatus.STUCK
