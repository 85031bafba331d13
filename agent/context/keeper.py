"""The conversation's hooks for long tasks: AGENTS.md at the start, condensation before a
request would pass the threshold of the window, and the answer to a provider's "too long".

It drives the conversation through the narrow protocol of context/host.py, the same few
calls the loop uses (record an event, ask the LLM on a worker thread, set the status), so
the summary call is abandoned on pause and Stop exactly like a step, and nothing of an
abandoned summary is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from agent.context import condenser
from agent.context.agents_file import read_agents_file
from agent.context.branches import live_events
from agent.context.window import ContextWindow, Request
from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    CondensationEvent,
    ContextFileEvent,
    Event,
    LLMUsage,
    MessageEvent,
)
from agent.llm import LLMError
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.context.host import EngineHost, Instructions

# A provider refusing a request as too long is answered by condensing harder, this often in
# a row, before the run stops with an error that says what to change.
MAX_CONTEXT_REFUSALS = 2
SUMMARISING_PAUSED = "Paused while summarising older steps; they will be summarised again"


class ContextKeeper:
    def __init__(self, host: EngineHost, window: ContextWindow, agent: Instructions) -> None:
        self._c = host
        self._agent = agent
        self.window = window
        self._refusals = 0
        self._agents_file_checked = False

    def prepare_request(self) -> tuple[list[Event], Request] | AgentStatus:
        """The events and the request for the next step, the history condensed first when
        the request would pass the threshold. A status when the run must end instead."""
        self._read_agents_file()
        prompt = self._agent.effective_system_prompt()
        events = self._c.events
        request = self.window.build(prompt, events)
        if not self.window.over_threshold(request):
            return events, request
        outcome = self._condense(events, request, reason="threshold", harder=0)
        if isinstance(outcome, AgentStatus):
            return outcome
        events = self._c.events
        return events, self.window.build(prompt, events)

    def accepted(self) -> None:
        """The provider answered: the next refusal starts the count again."""
        self._refusals = 0

    def after_refusal(
        self, error: LLMError, events: list[Event], request: Request
    ) -> AgentStatus | None:
        """The provider said the request is too long: condense harder and let the loop ask
        again (None), or, when that has failed too often, end with an error saying what to
        change."""
        self.window.learn(error, request.tokens)
        self._refusals += 1
        if self._refusals <= MAX_CONTEXT_REFUSALS:
            outcome = self._condense(events, request, reason="provider", harder=self._refusals)
            # Nothing left to condense still leaves the tool results cut to the new window.
            return outcome if isinstance(outcome, AgentStatus) else None
        self._refusals = 0
        message = (
            f"The model's context window is too small for this request "
            f"({request.tokens:,} tokens by Berth's count, after condensing the history "
            f'{MAX_CONTEXT_REFUSALS} times). Set "Context window (tokens)" in Settings '
            f"to the model's real window (Berth assumed {self.window.window:,}), choose "
            f"a model with a larger window, or start a new conversation. The provider "
            f"said: {error}"
        )
        return self._fail(message, source="context_window", retryable=False)

    # --- internals -------------------------------------------------------------------------

    def _read_agents_file(self) -> None:
        """AGENTS.md, once, before the conversation's first LLM request."""
        if self._agents_file_checked:
            return
        self._agents_file_checked = True
        started = any(
            isinstance(e, (ContextFileEvent, ActionEvent))
            or (isinstance(e, MessageEvent) and e.role == "assistant")
            for e in self._c.events
        )
        if not started:
            event = read_agents_file(self._c.workspace)
            if event is not None:
                self._c.record(event)

    def _condense(
        self,
        events: list[Event],
        request: Request,
        *,
        reason: Literal["threshold", "provider"],
        harder: int,
    ) -> bool | AgentStatus:
        """Summarise older steps. True when a CondensationEvent was recorded, False when
        there was nothing to condense, else the status the run ends with."""
        prompt = self._agent.effective_system_prompt()
        # Only the live branch is condensed: a rewind's abandoned steps are not history.
        live = live_events(events)
        plan = condenser.plan(
            self.window, prompt, live, reason=reason, harder=harder, tokens_before=request.tokens
        )
        if plan is None:
            return False
        llm = self._agent.summariser()
        asked = self._c.ask_llm(
            lambda cancel: condenser.summarise(plan, live, llm, self.window, cancel=cancel),
            SUMMARISING_PAUSED,
        )
        if isinstance(asked, AgentStatus):
            return asked
        if asked.error is not None:
            error = asked.error
            detail = str(error) if isinstance(error, LLMError) else repr(error)
            retryable = error.retryable if isinstance(error, LLMError) else False
            message = f"Summarising older steps to fit the context window failed: {detail}"
            return self._fail(message, source="llm", retryable=retryable)
        made: CondensationEvent = asked.result
        after = self.window.build(prompt, [*events, made])
        made = made.model_copy(update={"tokens_after": after.tokens})
        self._c.record(made)
        self._c.count_usage(made.usage or LLMUsage(), step=False, condensation=True)
        self._c.save_state()
        return True

    def _fail(self, message: str, *, source: str, retryable: bool) -> AgentStatus:
        self._c.record(AgentErrorEvent(message=message, source=source, retryable=retryable))
        self._c.set_status(AgentStatus.ERROR, message)
        return AgentStatus.ERROR
