"""What the event view shows: one row per message, tool call, error or marker.

Several events fold into one row (a tool call, its streamed output and its observation),
so rows are small mutable records; ``version`` changes whenever what a row shows changes,
which is what the delegate's caches are keyed by.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from agent.events import ObservationEvent
from gui.event_view.live_output import LiveOutput
from gui.event_view.mcp_call import mcp_call, pretty_arguments

_uids = itertools.count(1)


class RowKind(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    COMMAND = "command"
    EDIT = "edit"
    TOOL = "tool"
    MCP = "mcp"
    ERROR = "error"
    MARKER = "marker"
    SUMMARY = "summary"
    THINKING = "thinking"
    STREAMING = "streaming"


class Tone(StrEnum):
    """The colour family a row or chip is drawn in."""

    NEUTRAL = "neutral"
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    DANGER = "danger"


@dataclass(eq=False, slots=True, kw_only=True)
class Row:
    timestamp: datetime | None = None
    uid: int = field(default_factory=lambda: next(_uids))
    version: int = 0
    # Position in the model, set when the row is inserted (rows are only ever appended).
    position: int = -1
    _clock: str | None = None
    # The event that made the row; a rewind abandons rows by it.
    event_id: str | None = None
    # The checkpoint taken after this step ("Rewind to here", "Fork from here").
    checkpoint_id: str | None = None
    step: int | None = None
    # On a branch a rewind left (drawn greyed); hidden while its rewind marker is folded.
    abandoned: bool = False
    hidden: bool = False

    kind = RowKind.MARKER

    def touch(self) -> None:
        self.version += 1

    def clock(self) -> str:
        """The local time of day the row started, "14:02" (strftime is slow: cached)."""
        if self._clock is None:
            if self.timestamp is None:
                self._clock = ""
            else:
                local = self.timestamp.astimezone()
                self._clock = f"{local.hour:02d}:{local.minute:02d}"
        return self._clock

    def summary(self) -> str:
        """One line naming the row (for accessibility and keyboard search)."""
        return self.plain_text().split("\n", 1)[0]

    def plain_text(self) -> str:
        raise NotImplementedError


@dataclass(eq=False, slots=True, kw_only=True)
class MessageRow(Row):
    role: str
    text: str
    # Index of the event in the conversation; a user message below the count an LLM request
    # was built from has reached the model.
    event_index: int = -1
    queued: bool = False
    finished: bool = False

    @property
    def kind(self) -> RowKind:  # type: ignore[override]
        return RowKind.USER if self.role == "user" else RowKind.ASSISTANT

    @property
    def title(self) -> str:
        return "You" if self.role == "user" else "Agent"

    def plain_text(self) -> str:
        return self.text


@dataclass(eq=False, slots=True, kw_only=True)
class ToolRow(Row):
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None
    live: LiveOutput = field(default_factory=LiveOutput)
    observation: ObservationEvent | None = None
    # The call is in flight in a frozen container: it is not running, it waits for Resume.
    paused: bool = False
    # Confirmation mode: the call has not started, it waits for Approve or Reject.
    awaiting: bool = False

    @property
    def kind(self) -> RowKind:  # type: ignore[override]
        if self.tool_name == "bash":
            return RowKind.COMMAND
        if self.tool_name == "file_editor":
            return RowKind.EDIT
        if self.mcp is not None:
            return RowKind.MCP
        return RowKind.TOOL

    @property
    def mcp(self) -> tuple[str, str] | None:
        """``(server, tool)`` when this is an MCP server's tool."""
        return mcp_call(self.tool_name)

    @property
    def running(self) -> bool:
        return self.observation is None

    @property
    def command(self) -> str:
        value = self.arguments.get("command")
        if isinstance(value, str):
            return value
        return self.raw_arguments or ""

    @property
    def is_input(self) -> bool:
        return bool(self.arguments.get("is_input"))

    @property
    def path(self) -> str:
        value = self.arguments.get("path")
        return value if isinstance(value, str) else ""

    @property
    def output(self) -> str:
        """The final output once observed, else what has streamed in so far."""
        if self.observation is not None:
            return self.observation.content
        return self.live.text()

    @property
    def failed(self) -> bool:
        obs = self.observation
        if obs is None:
            return False
        return obs.is_error or (obs.exit_code is not None and obs.exit_code != 0)

    def arguments_text(self) -> str:
        if self.raw_arguments is not None:
            return self.raw_arguments
        if self.kind is RowKind.MCP:
            return pretty_arguments(self.arguments)
        return json.dumps(self.arguments, indent=1, ensure_ascii=False)

    def title(self) -> str:
        """What the row's header says the call did."""
        if self.kind is RowKind.COMMAND:
            return "Input" if self.is_input else "Command"
        if self.kind is RowKind.EDIT:
            verb = {
                "view": "Viewed",
                "create": "Created",
                "str_replace": "Edited",
                "insert": "Edited",
                "undo_edit": "Undid edit of",
            }.get(str(self.arguments.get("command", "")), "File editor:")
            if self.running and verb != "File editor:":
                verb = {"Viewed": "Viewing", "Created": "Creating", "Edited": "Editing"}.get(
                    verb, verb
                )
            return f"{verb} {self.path}".strip()
        mcp = self.mcp
        if mcp is not None:
            return f"{mcp[0]} \N{MIDDLE DOT} {mcp[1]}"
        return self.tool_name

    def plain_text(self) -> str:
        parts: list[str] = []
        if self.kind is RowKind.COMMAND:
            parts.append(f"$ {self.command}")
        else:
            parts.append(self.title())
            if self.kind in (RowKind.TOOL, RowKind.MCP):
                parts.append(self.arguments_text())
        obs = self.observation
        body = obs.diff if obs is not None and obs.diff else self.output
        if body:
            parts.append(body.rstrip("\n"))
        if obs is not None:
            notes = []
            if obs.exit_code is not None:
                notes.append(f"exit code {obs.exit_code}")
            if obs.ended:
                notes.append(obs.ended)
            if notes:
                parts.append(f"[{', '.join(notes)}]")
        return "\n".join(parts)


@dataclass(eq=False, slots=True, kw_only=True)
class ErrorRow(Row):
    message: str
    source: str = "internal"
    retryable: bool = False
    hint: str = ""  # what the user can do about it (the model's errors say so)

    kind = RowKind.ERROR

    @property
    def title(self) -> str:
        names = {
            "llm": "The model request failed",
            "sandbox": "The sandbox failed",
            "iteration_limit": "Step limit reached",
            "stuck": "The agent is stuck",
        }
        return names.get(self.source, "Error")

    def plain_text(self) -> str:
        return f"{self.title}: {self.message}" + (f"\n{self.hint}" if self.hint else "")


@dataclass(eq=False, slots=True, kw_only=True)
class MarkerRow(Row):
    label: str
    tone: Tone = Tone.NEUTRAL
    detail: str = ""
    # Which event kind made it ("pause", "resume", "interrupt", "status", "rejection",
    # "rewind", "checkpoint_failed").
    source: str = ""
    status: str = ""
    # A rewind marker: the rows it abandoned, folded away until the user unfolds them.
    branch: list[Row] = field(default_factory=list)
    expanded: bool = False

    @property
    def foldable(self) -> bool:
        return self.source == "rewind" and bool(self.branch)

    kind = RowKind.MARKER

    def plain_text(self) -> str:
        return f"{self.label}: {self.detail}" if self.detail else self.label


@dataclass(eq=False, slots=True, kw_only=True)
class SummaryRow(Row):
    """Where older steps were condensed: a marker that expands to the summary."""

    first_step: int
    last_step: int
    summary_text: str
    expanded: bool = False

    kind = RowKind.SUMMARY

    @property
    def label(self) -> str:
        if self.first_step == self.last_step:
            return f"Step {self.first_step} summarised"
        return f"Steps {self.first_step}\N{EN DASH}{self.last_step} summarised"

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self.touch()

    def plain_text(self) -> str:
        return f"{self.label}\n{self.summary_text}"


@dataclass(eq=False, slots=True, kw_only=True)
class ThinkingRow(Row):
    """The model's reasoning before a reply: folded (a click unfolds it)."""

    text: str
    expanded: bool = False

    kind = RowKind.THINKING

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self.touch()

    def plain_text(self) -> str:
        return f"Thinking\n{self.text}"


@dataclass(eq=False, slots=True)
class StreamedCall:
    """A tool call of the reply streaming in: its arguments so far, as raw JSON text."""

    name: str = ""
    call_id: str = ""
    arguments: str = ""


@dataclass(eq=False, slots=True, kw_only=True)
class StreamRow(Row):
    """The reply the model is writing, shown as it streams; the finished reply's rows take
    its place. ``started``: when the request went out (time.monotonic), for the
    "Thinking… 4 s" it shows until the first piece."""

    started: float
    reasoning: str = ""
    content: str = ""
    calls: dict[int, StreamedCall] = field(default_factory=dict)
    # The Thinking card: None follows the stream (open while the model reasons, folded
    # once it answers); a click fixes it open or shut.
    thinking_open: bool | None = None
    thought_for: float | None = None  # seconds the reasoning took, once the answer began
    elapsed: int = 0  # whole seconds since ``started``, as last shown

    kind = RowKind.STREAMING

    @property
    def answering(self) -> bool:
        return bool(self.content or self.calls)

    @property
    def shows_thinking(self) -> bool:
        if self.thinking_open is not None:
            return self.thinking_open
        return not self.answering

    def toggle(self) -> None:
        self.thinking_open = not self.shows_thinking
        self.touch()

    def plain_text(self) -> str:
        parts = [f"Thinking\n{self.reasoning}"] if self.reasoning else []
        if self.content:
            parts.append(self.content)
        parts.extend(f"{call.name} {call.arguments}" for call in self.calls.values())
        return "\n".join(parts) if parts else "Thinking…"
