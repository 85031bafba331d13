"""From events to the messages of an LLM request.

The request must always be valid for an OpenAI-style API: an assistant message with tool
calls is followed by one tool message per call, in order, before anything else. Events are
not always in that order (a user message can arrive while a command runs), so user
messages that land inside a tool call group are moved to just after it, and a call with no
recorded result (which the engine never leaves, but a damaged file could) gets one.

Only the live branch is sent (agent.context.branches): a rewind's abandoned events never reach the
model, and the rewind itself reaches it as a user message saying what happened.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agent.attachments import Attachment
from agent.context.branches import live_events
from agent.events import ActionEvent, Event, MessageEvent, ObservationEvent, RewindEvent

MISSING_RESULT = "(no result was recorded for this tool call)"


def rewind_text(event: RewindEvent) -> str:
    where = "the start of the conversation" if event.step == 0 else f"step {event.step}"
    return (
        f"[Berth] The user rewound /workspace to checkpoint {where}: every change made to "
        "it after that point, by commands and by edits, was undone, and the tool calls made "
        "after it are no longer part of this conversation. Files are exactly as they were "
        "then; processes started later may still be running."
    )


def tool_call_arguments(action: ActionEvent) -> str:
    if action.raw_arguments is not None:
        return action.raw_arguments
    return json.dumps(action.arguments)


def build_messages(system_prompt: str, events: Sequence[Event]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    # The tool call group being answered: its assistant message is out, tool results follow.
    open_calls: list[str] = []
    results: dict[str, str] = {}
    images: dict[str, list[Attachment]] = {}
    deferred: list[dict[str, Any]] = []
    current_response: str | None = None

    def close_group() -> None:
        nonlocal current_response
        for call_id in open_calls:
            messages.append(
                {"role": "tool", "tool_call_id": call_id, "content": results.get(call_id, "")}
            )
        if images:
            messages.append(images_message(open_calls, images))
        open_calls.clear()
        results.clear()
        images.clear()
        messages.extend(deferred)
        deferred.clear()
        current_response = None

    def group_done() -> bool:
        return all(call_id in results for call_id in open_calls)

    for event in live_events(events):
        if isinstance(event, RewindEvent):
            event = MessageEvent(id=event.id, role="user", text=rewind_text(event))
        if isinstance(event, ActionEvent):
            if current_response is not None and event.response_id == current_response:
                messages[_last_assistant(messages)]["tool_calls"].append(_tool_call(event))
                open_calls.append(event.tool_call_id)
                continue
            if open_calls:
                _fill_missing(open_calls, results)
                close_group()
            current_response = event.response_id
            messages.append(
                {
                    "role": "assistant",
                    "content": event.thought or None,
                    "tool_calls": [_tool_call(event)],
                }
            )
            open_calls.append(event.tool_call_id)
        elif isinstance(event, ObservationEvent):
            if event.tool_call_id in open_calls:
                results[event.tool_call_id] = event.content
                if event.attachments:
                    images[event.tool_call_id] = event.attachments
                if group_done():
                    close_group()
            # A result for a call outside the open group cannot be placed validly: dropped.
        elif isinstance(event, MessageEvent):
            message = {"role": event.role, "content": event.text}
            if open_calls:
                if event.role == "user":
                    deferred.append(message)
                    continue
                _fill_missing(open_calls, results)
                close_group()
            messages.append(message)
    if open_calls:
        _fill_missing(open_calls, results)
        close_group()
    return messages


def images_message(calls: list[str], images: dict[str, list[Attachment]]) -> dict[str, Any]:
    """The images the tool calls returned, as a user message after their results: a tool
    message holds only text in the OpenAI-style API, and a user message right after the
    results is where providers take images (each one is named so the model can tell
    which call's it is)."""
    content: list[dict[str, Any]] = []
    for call_id in calls:
        for number, image in enumerate(images.get(call_id, ()), start=1):
            content.append(
                {"type": "text", "text": f"[Berth] Image {number} of tool call {call_id}:"}
            )
            content.append({"type": "image_url", "image_url": {"url": image.data_uri()}})
    return {"role": "user", "content": content}


def without_images(messages: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    """``messages`` with each image part said in words instead, for a model that reads
    none (its provider would refuse every request that carries one)."""
    note = f"(left out: the model {model} does not read images)"
    result = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(p.get("type") == "image_url" for p in content):
            text = " ".join(p["text"] for p in content if p.get("type") == "text")
            message = {**message, "content": f"{text} {note}".strip()}
        result.append(message)
    return result


def _fill_missing(open_calls: list[str], results: dict[str, str]) -> None:
    for call_id in open_calls:
        results.setdefault(call_id, MISSING_RESULT)


def _last_assistant(messages: list[dict[str, Any]]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "assistant":
            return index
    raise AssertionError("no assistant message")


def _tool_call(action: ActionEvent) -> dict[str, Any]:
    return {
        "id": action.tool_call_id,
        "type": "function",
        "function": {"name": action.tool_name, "arguments": tool_call_arguments(action)},
    }


def pending_actions(events: Sequence[Event]) -> list[ActionEvent]:
    """Actions of the live branch with no observation yet, in order."""
    events = live_events(events)
    answered = {e.tool_call_id for e in events if isinstance(e, ObservationEvent)}
    return [e for e in events if isinstance(e, ActionEvent) and e.tool_call_id not in answered]


def answers_for_pending(
    events: Sequence[Event], content: str, ended: str | None = None
) -> list[ObservationEvent]:
    """An error result for each call still without one (a call the model made must always
    get an answer, or the next request is refused): why it did not run, in ``content``."""
    return [
        ObservationEvent(
            tool_call_id=action.tool_call_id,
            tool_name=action.tool_name,
            content=content,
            is_error=True,
            ended=ended,
        )
        for action in pending_actions(events)
    ]
