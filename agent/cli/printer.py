"""How ``berth run`` shows a conversation's events: one short terminal line (or a few) each."""

from __future__ import annotations

import threading
from typing import TextIO

from agent.context.agents_file import refusal_notice
from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    CheckpointFailedEvent,
    CondensationEvent,
    ContextFileEvent,
    Event,
    InterruptEvent,
    McpServersEvent,
    MessageEvent,
    NoticeEvent,
    ObservationEvent,
    PauseEvent,
    ResumeEvent,
    StatusEvent,
)
from agent.llm.stream import StreamDelta
from agent.mcp import McpServerState, McpServerStatus
from agent.status import AgentStatus

MAX_OBSERVATION_LINES = 30
# The model's reasoning is printed dimmed on a terminal, and marked "[thinking]" anywhere.
DIM, PLAIN = "\x1b[2m", "\x1b[0m"


class EventPrinter:
    """Turns events into short terminal lines."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._streamed: set[str] = set()
        self._lock = threading.Lock()
        # The reply streaming now: which part is being printed ("reasoning", "content"),
        # and whether its text was printed (the finished event then does not repeat it).
        self._part = ""
        self._text_streamed = False
        self._dim = bool(getattr(out, "isatty", lambda: False)())

    def begin_reply(self) -> None:
        """A new request went out: what streams next is its reply."""
        with self._lock:
            self._part, self._text_streamed = "", False

    def stream(self, deltas: tuple[StreamDelta, ...]) -> None:
        """Print the reply's text and reasoning as they come (tool calls print whole)."""
        pieces: list[str] = []
        with self._lock:
            for delta in deltas:
                if delta.reasoning_content:
                    if self._part != "reasoning":
                        pieces.append("\n[thinking] " + (DIM if self._dim else ""))
                        self._part = "reasoning"
                    pieces.append(delta.reasoning_content)
                if delta.content:
                    if self._part != "content":
                        end = PLAIN if self._dim and self._part == "reasoning" else ""
                        pieces.append(end + "\n[agent] ")
                        self._part = "content"
                    self._text_streamed = True
                    pieces.append(delta.content)
        if pieces:
            self.write("".join(pieces))

    def _end_stream(self) -> tuple[str, bool]:
        """Before a finished reply's event: close what streamed; whether its text did."""
        with self._lock:
            part, streamed = self._part, self._text_streamed
            self._part, self._text_streamed = "", False
        end = PLAIN if self._dim and part == "reasoning" else ""
        return end, streamed

    def __call__(self, event: Event) -> None:
        text = self.format(event)
        if text is not None:
            self.write(text + "\n")

    def output(self, tool_call_id: str, chunk: str) -> None:
        with self._lock:
            self._streamed.add(tool_call_id)
        self.write(chunk)

    def write(self, text: str) -> None:
        """Any text, whole, between the lines of other threads."""
        with self._lock:
            self.out.write(text)
            self.out.flush()

    def format(self, event: Event) -> str | None:
        if isinstance(event, MessageEvent) and event.role == "assistant":
            end, streamed = self._end_stream()
            return end + ("" if streamed else f"\n[agent] {event.text}")
        if isinstance(event, MessageEvent):
            return f"\n[you] {event.text}"
        if isinstance(event, ActionEvent):
            end, streamed = self._end_stream() if event.response_id else ("", False)
            thought = event.thought.strip()
            lead = f"\n{thought}\n" if thought and not streamed else "\n" if streamed else ""
            return end + lead + "→ " + describe_action(event)
        if isinstance(event, ObservationEvent):
            with self._lock:
                streamed = event.tool_call_id in self._streamed
            lines = event.content.rstrip("\n").splitlines() or ["(no output)"]
            if streamed:  # the output was printed live: only its status lines now
                lines = [line for line in lines if line.startswith("[")]
            if len(lines) > MAX_OBSERVATION_LINES:
                hidden = len(lines) - MAX_OBSERVATION_LINES
                half = MAX_OBSERVATION_LINES // 2
                lines = [*lines[:half], f"… {hidden} more lines …", *lines[-half:]]
            mark = "✗" if event.is_error else "←"
            return "\n".join(f"  {mark} {line}" for line in lines) if lines else None
        if isinstance(event, AgentErrorEvent):
            return f"! {event.message}"
        if isinstance(event, PauseEvent):
            return "‖ paused"
        if isinstance(event, ResumeEvent):
            return "▶ resumed"
        if isinstance(event, InterruptEvent):
            return "■ stopped"
        if isinstance(event, CheckpointFailedEvent):
            return f"! warning: {event.message} (the run goes on)"
        if isinstance(event, CondensationEvent):
            return f"≡ steps {event.first_step}-{event.last_step} summarised (context window)"
        if isinstance(event, ContextFileEvent) and event.refused:
            return f"! warning: {refusal_notice(event)}"
        if isinstance(event, ContextFileEvent):
            return f"≡ read {event.path}" + (" (first 32 KB)" if event.truncated else "")
        if isinstance(event, McpServersEvent):
            return "\n".join(mcp_line(server) for server in event.servers) or None
        if isinstance(event, NoticeEvent):
            return f"! {event.title}" + (f": {event.text}" if event.text else "")
        if isinstance(event, StatusEvent) and event.status in (
            AgentStatus.FINISHED,
            AgentStatus.STUCK,
        ):
            return f"[{event.status.value}]"
        return None


def mcp_line(server: McpServerStatus) -> str:
    """ "≡ MCP: git — 12 tools", or why it failed (its first line)."""
    if server.state is McpServerState.FAILED:
        why = server.error.strip().splitlines()[0] if server.error.strip() else "no reason given"
        return f"! MCP: {server.name} failed: {why}"
    count = len(server.tools)
    return f"≡ MCP: {server.name} — {count} tool{'s' if count != 1 else ''}"


def describe_action(event: ActionEvent) -> str:
    args = event.arguments
    if event.raw_arguments is not None:
        return f"{event.tool_name} (unreadable arguments)"
    if event.tool_name == "bash":
        prefix = "$ (input) " if args.get("is_input") else "$ "
        return prefix + str(args.get("command", ""))
    if event.tool_name == "file_editor":
        return f"file_editor {args.get('command', '?')} {args.get('path', '')}".rstrip()
    if event.tool_name == "finish":
        return "finish"
    return f"{event.tool_name} {args}"
