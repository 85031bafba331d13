"""Events: everything that happens in a conversation, as pydantic models.

Each event is appended to ``events.jsonl`` (and flushed) before any callback sees it, so
the file is the conversation. ``kind`` is the discriminator; ``Event`` parses any of them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from agent.attachments import Attachment
from agent.mcp.config import McpServerStatus
from agent.status import AgentStatus


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


class LLMUsage(BaseModel):
    """What one LLM call cost. Carried by the events the call produced."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Of prompt_tokens, those the provider read from its prompt cache (priced lower), and
    # those it wrote to it (Anthropic prices a write above a plain input token).
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float = 0.0
    latency_s: float = 0.0


class EventBase(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=_new_id)
    timestamp: datetime = Field(default_factory=_now)


class MessageEvent(EventBase):
    """A chat message: the user's, or the assistant's text reply."""

    kind: Literal["message"] = "message"
    role: Literal["user", "assistant"]
    text: str
    # For assistant events: how many events of the history the LLM request was built from.
    # A user message at an index below this has reached the model ("delivered").
    request_event_count: int | None = None
    usage: LLMUsage | None = None
    # The model's reasoning before this reply, when it gave one (older logs have none).
    reasoning_content: str | None = None


class ActionEvent(EventBase):
    """The model asked for a tool call."""

    kind: Literal["action"] = "action"
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    # Raw argument text when it was not valid JSON (the model sees an error observation).
    raw_arguments: str | None = None
    thought: str = ""
    # Tool calls of one LLM response share it, so the assistant message can be rebuilt.
    response_id: str = ""
    request_event_count: int | None = None
    usage: LLMUsage | None = None
    # The model's reasoning before the reply (on its first tool call only, as ``thought``).
    reasoning_content: str | None = None


class ObservationEvent(EventBase):
    """The result of a tool call: every ActionEvent gets exactly one."""

    kind: Literal["observation"] = "observation"
    tool_call_id: str
    tool_name: str
    content: str
    is_error: bool = False
    exit_code: int | None = None
    cwd: str | None = None
    # For file edits: a unified diff of what changed.
    diff: str | None = None
    # Set when the tool call was ended early: "interrupted", "timeout", "app_stopped",
    # "rejected".
    ended: str | None = None
    # Images the tool returned (an MCP tool's ImageContent); the model gets them after the
    # tool results. Older logs have none.
    attachments: list[Attachment] = Field(default_factory=list)


class AgentErrorEvent(EventBase):
    """Something went wrong outside a tool call (the LLM failed, the sandbox died...)."""

    kind: Literal["agent_error"] = "agent_error"
    message: str
    # "llm", "sandbox", "iteration_limit", "stuck", "internal"
    source: str = "internal"
    retryable: bool = False
    # What the user can do about it ("Fix the key in Settings, then Resume"); empty: the
    # front end's general advice. ``in_settings``: the fix is in Settings (key, URL, model).
    hint: str = ""
    in_settings: bool = False


class PauseEvent(EventBase):
    kind: Literal["pause"] = "pause"
    # With a command in flight: what holds it still ("frozen", "stopped" by SIGSTOP), or
    # "running" when the pause could not hold it. None when no command was in flight.
    hold: Literal["frozen", "stopped", "running"] | None = None


class ResumeEvent(EventBase):
    kind: Literal["resume"] = "resume"


class InterruptEvent(EventBase):
    kind: Literal["interrupt"] = "interrupt"


class StatusEvent(EventBase):
    kind: Literal["status"] = "status"
    status: AgentStatus
    detail: str = ""


class RejectionEvent(EventBase):
    """The user rejected a pending tool call in confirmation mode."""

    kind: Literal["rejection"] = "rejection"
    tool_call_id: str
    reason: str = ""


class CondensationEvent(EventBase):
    """Older steps were summarised so the next requests fit the model's context window.

    The events themselves stay in the log: this one says which of them the model no longer
    sees. It replaces every event from ``first_event_id`` to ``last_event_id`` (inclusive,
    in log order) except user messages, which are always sent whole. The latest
    condensation covers the earlier ones (its summary includes theirs), so a request is
    rebuilt from the latest one alone, and rebuilt the same way after a reopen.
    """

    kind: Literal["condensation"] = "condensation"
    summary: str
    first_event_id: str
    last_event_id: str
    # The steps (LLM replies, counted from 1) the summary stands for: "Steps 3-41".
    first_step: int
    last_step: int
    # Why it ran: "threshold" (the next request would pass it) or "provider" (the provider
    # said the request was too long).
    reason: Literal["threshold", "provider"] = "threshold"
    tokens_before: int = 0
    tokens_after: int = 0
    model: str = ""
    usage: LLMUsage | None = None


class ContextFileEvent(EventBase):
    """A file of instructions for the agent (AGENTS.md) was read at the start.

    Its text (cut to the cap) is kept here, so the system prompt is rebuilt byte for byte
    from the log, whatever the file says later."""

    kind: Literal["context_file"] = "context_file"
    path: str
    text: str
    size: int
    truncated: bool = False
    # Why the file was not given to the model (not text: NUL bytes, not UTF-8); the text is
    # then empty and the prompt says only that the file was left out.
    refused: str = ""


class NoticeEvent(EventBase):
    """Something the user should know that is not an error (the run went on): a container
    that died and was made again, say. The model learns of it through the tool result."""

    kind: Literal["notice"] = "notice"
    title: str
    text: str = ""
    source: str = ""  # "container" for a recreated container


class McpServersEvent(EventBase):
    """The conversation's MCP servers as they stand: said when they have started (each
    ready with its tools, or failed with why) and again when one changes (dies, comes
    back). The stream shows it as "MCP: git — 12 tools"; the window's Settings list reads
    the newest one."""

    kind: Literal["mcp_servers"] = "mcp_servers"
    servers: list[McpServerStatus] = Field(default_factory=list)


class CheckpointEvent(EventBase):
    """/workspace was saved in the checkpoint store (taken off the loop's thread, so it can
    land after later events; ``after_event_id`` says where in the history it belongs)."""

    kind: Literal["checkpoint"] = "checkpoint"
    checkpoint_id: str
    step: int
    # The ObservationEvent of the tool call it follows (None for the first checkpoint).
    event_id: str | None = None
    # The last event recorded when it was taken: a rewind keeps the history up to here.
    after_event_id: str | None = None
    tree: str
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    # Files kept out of it (over a size limit), each with why: a rewind leaves them be.
    notes: list[str] = Field(default_factory=list)


class CheckpointFailedEvent(EventBase):
    """A checkpoint could not be taken: a warning; the run goes on without it."""

    kind: Literal["checkpoint_failed"] = "checkpoint_failed"
    step: int
    event_id: str | None = None
    message: str


class RewindEvent(EventBase):
    """/workspace was put back to a checkpoint. Events between that checkpoint's
    ``after_event_id`` and this event are an abandoned branch the model no longer sees."""

    kind: Literal["rewind"] = "rewind"
    rewind_id: str
    checkpoint_id: str
    step: int
    to_event_id: str | None = None


Event = Annotated[
    MessageEvent
    | ActionEvent
    | ObservationEvent
    | AgentErrorEvent
    | PauseEvent
    | ResumeEvent
    | InterruptEvent
    | StatusEvent
    | RejectionEvent
    | CondensationEvent
    | ContextFileEvent
    | NoticeEvent
    | McpServersEvent
    | CheckpointEvent
    | CheckpointFailedEvent
    | RewindEvent,
    Field(discriminator="kind"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    """Parse one line of ``events.jsonl``."""
    return EVENT_ADAPTER.validate_json(line)
