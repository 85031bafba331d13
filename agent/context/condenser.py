"""Condensation: which older steps to summarise, and the LLM call that summarises them.

What stays whole: the system prompt, everything up to and including the first user
message, every later user message, and the latest steps (as many as fit in TARGET of the
window). What goes: the steps in between, as one summary. The range always ends where no
tool call is waiting for its result, so a call is never split from its result. A second
condensation starts where the first did and summarises the first's summary with the steps
since, so the latest CondensationEvent alone says what the model sees.

``plan`` is cheap and pure; ``summarise`` is the blocking LLM call, which the conversation
runs on a worker thread like any other (so pause and Stop abandon it).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from agent.context.history import build_messages, tool_call_arguments
from agent.context.window import (
    TARGET,
    ContextWindow,
    cut_middle,
    latest_condensation,
    system_prompt_with_context,
)
from agent.events import (
    ActionEvent,
    CondensationEvent,
    Event,
    MessageEvent,
    ObservationEvent,
)

if TYPE_CHECKING:
    from agent.llm import LLM, LLMResponse

# The summary request starts with this (tests and tools can tell it from a step).
SUMMARY_SYSTEM_PROMPT = """\
You condense the history of a coding agent's work so it can carry on with less context. \
You are given the user's task, the previous summary if there is one, and the steps to \
condense (tool calls and their results). Write a summary the agent can rely on instead of \
those steps: what has been done and found (files created or changed, with paths; commands \
that worked or failed, and why; facts learned about the code), decisions taken, and what \
is left to do. Keep exact paths, names, numbers and error messages. Do not invent \
anything. Write it as notes, no preamble."""

# Per tool result, the characters a summary request shows (tried in order until it fits).
_RENDER_CAPS = (4000, 1500, 500, 150)
# The share of the summarising model's window its request may use.
_SUMMARY_INPUT_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class CondensationPlan:
    """The events a condensation replaces: ``events[start:end]``."""

    start: int
    end: int
    first_step: int
    last_step: int
    # What the summary call reads: the previous summary and the newly condensed events.
    previous_summary: str
    new_events: tuple[Event, ...]
    first_user_text: str
    reason: Literal["threshold", "provider"]
    tokens_before: int


def summary_budget(window: int) -> int:
    """The tokens a summary may take (its reply's max_tokens)."""
    return max(256, min(4096, window // 10))


def _step_ids(events: Sequence[Event]) -> list[int]:
    """For each event, the number of the LLM reply (step) it belongs to, 0 before any."""
    numbers: list[int] = []
    step = 0
    response: str | None = None
    for event in events:
        if isinstance(event, ActionEvent):
            if not event.response_id or event.response_id != response:
                step += 1
            response = event.response_id or None
        elif isinstance(event, MessageEvent) and event.role == "assistant":
            step += 1
            response = None
        numbers.append(step)
    return numbers


def _boundaries(events: Sequence[Event], start: int) -> list[int]:
    """Positions ``b > start`` where ``events[start:b]`` ends a step with every tool call
    answered: a condensed range may end just before them."""
    found: list[int] = []
    open_calls: set[str] = set()
    for index in range(start, len(events)):
        event = events[index]
        if isinstance(event, ActionEvent):
            open_calls.add(event.tool_call_id)
        elif isinstance(event, ObservationEvent):
            open_calls.discard(event.tool_call_id)
            if not open_calls:
                found.append(index + 1)
        elif isinstance(event, MessageEvent) and event.role == "assistant" and not open_calls:
            found.append(index + 1)
    return found


def _head_end(events: Sequence[Event]) -> int | None:
    """The position just after the first user message (None before there is one)."""
    for index, event in enumerate(events):
        if isinstance(event, MessageEvent) and event.role == "user":
            return index + 1
    return None


def plan(
    context: ContextWindow,
    system_prompt: str,
    events: Sequence[Event],
    *,
    reason: Literal["threshold", "provider"] = "threshold",
    harder: int = 0,
    tokens_before: int = 0,
) -> CondensationPlan | None:
    """What to condense so the next request fits under TARGET of the window (halved per
    ``harder`` level), or None when there is nothing left to condense."""
    head_end = _head_end(events)
    if head_end is None:
        return None
    previous = latest_condensation(events)
    start = previous[0] if previous is not None else head_end
    done_until = previous[1] + 1 if previous is not None else start
    boundaries = [b for b in _boundaries(events, start) if b > done_until]
    # The latest step stays whole unless even that is too much for the window.
    keep_last = harder < 2
    if keep_last and boundaries and boundaries[-1] >= _last_step_start(events):
        boundaries = [b for b in boundaries if b <= _last_step_start(events)]
    if not boundaries:
        return None

    target = int(context.window * TARGET / (2**harder)) - summary_budget(context.window)
    prompt = system_prompt_with_context(system_prompt, events)
    end = _choose_end(context, prompt, events, start, boundaries, target)
    steps = _step_ids(events)
    first_user = events[head_end - 1]
    assert isinstance(first_user, MessageEvent)
    return CondensationPlan(
        start=start,
        end=end,
        first_step=previous[2].first_step if previous is not None else max(1, steps[start]),
        last_step=steps[end - 1],
        previous_summary=previous[2].summary if previous is not None else "",
        new_events=tuple(events[done_until:end]),
        first_user_text=first_user.text,
        reason=reason,
        tokens_before=tokens_before,
    )


def _last_step_start(events: Sequence[Event]) -> int:
    """Where the newest step's events begin."""
    steps = _step_ids(events)
    last = steps[-1] if steps else 0
    for index, step in enumerate(steps):
        if step == last:
            return index
    return len(events)


def _choose_end(
    context: ContextWindow,
    system_prompt: str,
    events: Sequence[Event],
    start: int,
    boundaries: list[int],
    target: int,
) -> int:
    """The earliest boundary whose kept tail fits ``target`` (else the last one)."""
    fixed = context.tokens(context.cut_all(build_messages(system_prompt, events[:start])))
    users_before: list[int] = []
    running = 0
    cursor = start
    for boundary in boundaries:
        for event in events[cursor:boundary]:
            if isinstance(event, MessageEvent) and event.role == "user":
                running += context.message_tokens({"role": "user", "content": event.text})
        cursor = boundary
        users_before.append(running)
    # The tail after each boundary, summed from the end (segments are whole steps).
    tails = [0] * len(boundaries)

    def sent(segment: Sequence[Event]) -> int:
        return context.count(context.cut_all(build_messages("", segment)[1:]))

    tail = sent(events[boundaries[-1] :])
    for position in range(len(boundaries) - 1, -1, -1):
        if position < len(boundaries) - 1:
            tail += sent(events[boundaries[position] : boundaries[position + 1]])
        tails[position] = tail
    for position, boundary in enumerate(boundaries):
        if fixed + users_before[position] + tails[position] <= target:
            return boundary
    return boundaries[-1]


# --- the summary call ------------------------------------------------------------------------


def summary_messages(plan: CondensationPlan, llm: LLM, window: int) -> list[dict[str, str]]:
    """The summary request, its tool results cut until it fits the summarising model's
    ``window``."""
    budget = int(window * _SUMMARY_INPUT_SHARE)
    task = cut_middle(plan.first_user_text, 8000)
    messages: list[dict[str, str]] = []
    for cap in _RENDER_CAPS:
        body = _render(plan, task, cap)
        messages = [
            {"role": "system", "content": SUMMARY_SYSTEM_PROMPT},
            {"role": "user", "content": body},
        ]
        if llm.count_tokens(messages) <= budget:
            return messages
    # Still too long at the smallest cap: keep both ends of it.
    body = messages[1]["content"]
    ratio = budget / max(1, llm.count_tokens(messages))
    messages[1]["content"] = cut_middle(body, int(len(body) * ratio * 0.8))
    return messages


def _render(plan: CondensationPlan, task: str, cap: int) -> str:
    parts = [f"<task>\n{task}\n</task>"]
    if plan.previous_summary:
        parts.append(f"<previous_summary>\n{plan.previous_summary}\n</previous_summary>")
    lines: list[str] = []
    for event in plan.new_events:
        if isinstance(event, ActionEvent):
            thought = f"(thinking: {cut_middle(event.thought, cap)})\n" if event.thought else ""
            arguments = cut_middle(tool_call_arguments(event), cap)
            lines.append(f"{thought}CALL {event.tool_name} {arguments}")
        elif isinstance(event, ObservationEvent):
            status = []
            if event.exit_code is not None:
                status.append(f"exit {event.exit_code}")
            if event.is_error:
                status.append("error")
            if event.ended:
                status.append(event.ended)
            head = f"RESULT ({', '.join(status)})" if status else "RESULT"
            lines.append(f"{head}\n{cut_middle(event.content, cap)}")
        elif isinstance(event, MessageEvent):
            who = "USER" if event.role == "user" else "AGENT"
            lines.append(f"{who}: {cut_middle(event.text, cap)}")
    parts.append(
        f"<steps first={plan.first_step} last={plan.last_step}>\n"
        + "\n\n".join(lines)
        + "\n</steps>"
    )
    parts.append("Write the summary of everything above (the previous summary included).")
    return "\n\n".join(parts)


def summarise(
    plan: CondensationPlan,
    events: Sequence[Event],
    llm: LLM,
    context: ContextWindow,
    *,
    cancel: threading.Event | None = None,
) -> CondensationEvent:
    """Ask ``llm`` for the summary (blocking; raises LLMError or LLMCancelled)."""
    window = context.window
    budget = summary_budget(window)
    caller = llm
    if llm.max_output_tokens is None or llm.max_output_tokens > budget:
        caller = llm.model_copy(update={"max_output_tokens": budget})
    # The agent's own model has the window the conversation learned; another model its own.
    own_window = window if llm.model == context.llm.model else llm.effective_context_window()
    messages = summary_messages(plan, llm, own_window)
    response: LLMResponse = caller.completion(messages, cancel=cancel)
    summary = (response.content or "").strip() or "(the summary came back empty)"
    # A summary longer than it was asked to be must not fill the window it is there to free.
    if context.message_tokens({"role": "user", "content": summary}) > budget * 2:
        summary = cut_middle(summary, budget * 6)
    return CondensationEvent(
        summary=summary,
        first_event_id=events[plan.start].id,
        last_event_id=events[plan.end - 1].id,
        first_step=plan.first_step,
        last_step=plan.last_step,
        reason=plan.reason,
        tokens_before=plan.tokens_before,
        model=llm.model,
        usage=response.usage,
    )
