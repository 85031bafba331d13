"""A reply as it streams in: the pieces folded into the live row, which events end it, and
what a tool call's half-written arguments already say ("Writing /workspace/app.py…").

Plain Python (no Qt): the model (model.py) keeps one ``StreamRow`` at the end of the list
while the model works, and the finished reply's events take its place.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable

from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    CondensationEvent,
    Event,
    InterruptEvent,
    MessageEvent,
    PauseEvent,
    StatusEvent,
)
from agent.llm.stream import StreamDelta
from agent.status import AgentStatus
from gui.event_view.rows import StreamedCall, StreamRow

# The live row lays out only the end of a long answer (the newest lines are what one
# watches): laying out all of a 4,000-token answer 30 times a second would stall the window.
TAIL_CHARS = 3000


def ends_stream(event: Event) -> bool:
    """Whether ``event`` ends the reply streaming now: the reply itself, or whatever
    abandoned it (a pause, a stop, an error, the run's end). A user's message, a
    checkpoint or a notice recorded meanwhile leave it streaming."""
    if isinstance(event, MessageEvent):
        return event.role == "assistant"
    if isinstance(event, StatusEvent):
        return event.status is not AgentStatus.RUNNING
    return isinstance(
        event, ActionEvent | PauseEvent | InterruptEvent | AgentErrorEvent | CondensationEvent
    )


def apply_deltas(row: StreamRow, deltas: Iterable[StreamDelta]) -> bool:
    """Fold pieces into the live row; True when it shows something new."""
    changed = False
    for delta in deltas:
        if delta.reasoning_content:
            row.reasoning += delta.reasoning_content
            changed = True
        if delta.content:
            if not row.answering and row.reasoning:
                row.thought_for = time.monotonic() - row.started
            row.content += delta.content
            changed = True
        if delta.tool_call_index is not None:
            call = row.calls.get(delta.tool_call_index)
            if call is None:
                if not row.answering and row.reasoning:
                    row.thought_for = time.monotonic() - row.started
                call = row.calls[delta.tool_call_index] = StreamedCall()
            call.name = call.name or delta.tool_name
            call.call_id = call.call_id or delta.tool_call_id
            call.arguments += delta.tool_call_arguments
            changed = True
    if changed:
        row.touch()
    return changed


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    """The end of ``text`` for the live row, cut at a line break where there is one."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    if 0 <= newline < limit // 2:
        cut = cut[newline + 1 :]
    return "…\n\n" + cut


_STRING_FIELD = r'"{name}"\s*:\s*"((?:[^"\\]|\\.)*)'


def partial_field(arguments: str, name: str) -> str | None:
    """The value of the string field ``name`` in JSON text that may stop half-way, as far
    as it has come (None when the field has not begun)."""
    match = re.search(_STRING_FIELD.format(name=re.escape(name)), arguments)
    if match is None:
        return None
    raw = match.group(1)
    if raw.endswith("\\"):  # an escape cut in two: wait for its other half
        raw = raw[:-1]
    try:
        return str(json.loads(f'"{raw}"'))
    except ValueError:
        return raw


_EDIT_VERBS = {
    "create": "Writing",
    "str_replace": "Editing",
    "insert": "Editing",
    "view": "Viewing",
    "undo_edit": "Undoing an edit of",
}


def call_preview(call: StreamedCall) -> tuple[str, str]:
    """What a tool call still streaming says so far: a title, and the command (bash)."""
    if call.name == "bash":
        return "Command…", partial_field(call.arguments, "command") or ""
    if call.name == "file_editor":
        verb = _EDIT_VERBS.get(partial_field(call.arguments, "command") or "", "Editing")
        path = partial_field(call.arguments, "path")
        return (f"{verb} {path}…" if path else f"{verb} a file…"), ""
    if call.name == "finish":
        return "Finishing…", partial_field(call.arguments, "message") or ""
    return f"{call.name or 'Tool call'}…", call.arguments
