"""The events a step produces, built from what the model and the tools gave back, and the
questions the loop asks of the history. Pure functions: no state, no locks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agent.events import ActionEvent, Event, MessageEvent, ObservationEvent, StatusEvent
from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.llm import LLMResponse
    from agent.tools import ToolResult


def actions_of(response: LLMResponse, request_count: int) -> list[ActionEvent]:
    """One ActionEvent per tool call of a reply. Arguments that are not a JSON object stay
    raw: the loop answers them with an error the model can act on."""
    response_id = uuid.uuid4().hex
    actions = []
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
        actions.append(
            ActionEvent(
                tool_call_id=call.id,
                tool_name=call.name,
                arguments=arguments,
                raw_arguments=raw,
                thought=(response.content or "") if index == 0 else "",
                response_id=response_id,
                request_event_count=request_count,
                usage=response.usage if index == 0 else None,
                reasoning_content=response.reasoning_content if index == 0 else None,
            )
        )
    return actions


def observation_of(action: ActionEvent, result: ToolResult) -> ObservationEvent:
    return ObservationEvent(
        tool_call_id=action.tool_call_id,
        tool_name=action.tool_name,
        content=result.content,
        is_error=result.is_error,
        exit_code=result.exit_code,
        cwd=result.cwd,
        diff=result.diff,
        ended=result.ended,
        attachments=result.attachments,
    )


def error_observation(action: ActionEvent, text: str) -> ObservationEvent:
    return ObservationEvent(
        tool_call_id=action.tool_call_id, tool_name=action.tool_name, content=text, is_error=True
    )


def stopped_observation(
    action: ActionEvent, result: ToolResult | None, note: str
) -> ObservationEvent:
    """The result of a command the user stopped: what it printed so far, then ``note``."""
    content = note
    if result is not None and result.content.strip():
        content = f"{result.content.rstrip()}\n\n{note}"
    return ObservationEvent(
        tool_call_id=action.tool_call_id,
        tool_name=action.tool_name,
        content=content,
        is_error=True,
        exit_code=result.exit_code if result is not None else None,
        cwd=result.cwd if result is not None else None,
        ended="interrupted",
    )


def has_user_message_after(events: Sequence[Event], index: int) -> bool:
    return any(isinstance(e, MessageEvent) and e.role == "user" for e in events[index:])


def has_new_user_input(events: Sequence[Event]) -> bool:
    """A user message after the run that last finished."""
    for event in reversed(events):
        if isinstance(event, MessageEvent) and event.role == "user":
            return True
        if isinstance(event, StatusEvent) and event.status == AgentStatus.FINISHED:
            return False
    return False
