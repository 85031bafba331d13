"""Folding the event stream into rows (plain Python, so a 10,000-event load is one pass).

Every event of the conversation must pass through in order: a user message's position in
the stream is what tells whether the model has seen it yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.context.branches import abandoned_ids
from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    CheckpointEvent,
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
    RejectionEvent,
    ResumeEvent,
    RewindEvent,
    StatusEvent,
)
from agent.mcp.config import McpServerStatus
from agent.session.rules import status_implied_by
from agent.status import AgentStatus
from gui.event_view.mcp_call import server_line
from gui.event_view.rows import (
    ErrorRow,
    MarkerRow,
    MessageRow,
    Row,
    SummaryRow,
    ThinkingRow,
    Tone,
    ToolRow,
)

_STATUS_MARKERS: dict[AgentStatus, tuple[str, Tone]] = {
    AgentStatus.IDLE: ("Idle", Tone.NEUTRAL),
    AgentStatus.RUNNING: ("Running", Tone.SUCCESS),
    AgentStatus.PAUSED: ("Paused", Tone.WARNING),
    AgentStatus.WAITING_FOR_CONFIRMATION: ("Waiting for your approval", Tone.WARNING),
    AgentStatus.FINISHED: ("Finished", Tone.INFO),
    AgentStatus.ERROR: ("Stopped by an error", Tone.DANGER),
    AgentStatus.STUCK: ("Stuck", Tone.DANGER),
}

# Marker colours match the status bar's (gui.theme): running green, finished blue.
# A status event that only confirms the marker just shown adds nothing to read (which
# marker implies which status is agent.session.rules.status_implied_by).


@dataclass(slots=True)
class Update:
    inserted: list[Row] = field(default_factory=list)
    changed: list[Row] = field(default_factory=list)


class RowAssembler:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.event_count = 0
        self.delivered_count = 0
        self._tool_rows: dict[str, Row] = {}
        self._responses_with_thought: set[str] = set()
        self._queued: list[MessageRow] = []
        # For rewinds: every event (the branches are worked out from them), the row each
        # event made, the tool row each observation completed.
        self._events: list[Event] = []
        self._current_event: str | None = None
        self._rows_by_event: dict[str, Row] = {}
        self._observation_rows: dict[str, Row] = {}
        # Each MCP server as the stream last said it: a later McpServersEvent shows only
        # the servers that changed.
        self._mcp_said: dict[str, McpServerStatus] = {}

    def add(self, event: Event) -> Update:
        update = Update()
        index = self.event_count
        self.event_count += 1
        self._events.append(event)
        self._current_event = event.id
        request_count = getattr(event, "request_event_count", None)
        if request_count is not None:
            self._deliver(request_count, update)
        if isinstance(event, MessageEvent):
            self._message(event, index, update)
        elif isinstance(event, ActionEvent):
            self._action(event, update)
        elif isinstance(event, ObservationEvent):
            self._observation(event, update)
        elif isinstance(event, AgentErrorEvent):
            self._insert(
                ErrorRow(
                    timestamp=event.timestamp,
                    message=event.message,
                    source=event.source,
                    retryable=event.retryable,
                    hint=event.hint,
                ),
                update,
            )
        elif isinstance(event, PauseEvent):
            # A pause that could not hold the command (hold "running") leaves it running.
            self._set_pending_paused(event.hold != "running", update)
            label = "Paused (the command runs on)" if event.hold == "running" else "Paused"
            self._marker(label, Tone.WARNING, "pause", event, update)
        elif isinstance(event, ResumeEvent):
            self._set_pending_paused(False, update)
            self._marker("Resumed", Tone.SUCCESS, "resume", event, update)
        elif isinstance(event, NoticeEvent):
            self._marker(event.title, Tone.WARNING, "notice", event, update, detail=event.text)
        elif isinstance(event, InterruptEvent):
            self._marker("Stopped", Tone.DANGER, "interrupt", event, update)
        elif isinstance(event, StatusEvent):
            self._set_pending_awaiting(event.status is AgentStatus.WAITING_FOR_CONFIRMATION, update)
            self._status(event, update)
        elif isinstance(event, RejectionEvent):
            self._marker("Rejected", Tone.WARNING, "rejection", event, update, event.reason)
        elif isinstance(event, CondensationEvent):
            row = SummaryRow(
                timestamp=event.timestamp,
                first_step=event.first_step,
                last_step=event.last_step,
                summary_text=event.summary,
            )
            self._insert(row, update)
        elif isinstance(event, ContextFileEvent):
            name = event.path.rsplit("/", 1)[-1]
            size = _size(event.size)
            if event.refused:
                label, tone = f"Left out {name}", Tone.WARNING
                detail = f"{size}, not given to the agent: {event.refused}"
            else:
                label, tone = f"Read {name}", Tone.INFO
                detail = f"first 32 KB of {size} given to the agent" if event.truncated else size
            self._marker(label, tone, "context_file", event, update, detail)
        elif isinstance(event, CheckpointEvent):
            self._checkpoint(event, update)
        elif isinstance(event, CheckpointFailedEvent):
            label = f"Checkpoint {event.step} not taken"
            self._marker(label, Tone.WARNING, "checkpoint_failed", event, update, event.message)
        elif isinstance(event, RewindEvent):
            self._rewind(event, update)
        elif isinstance(event, McpServersEvent):
            self._mcp_servers(event, update)
        return update

    def toggle_branch(self, marker: MarkerRow) -> Update:
        """Unfold (or fold again) the abandoned branch a rewind marker stands for."""
        update = Update()
        if not marker.foldable:
            return update
        marker.expanded = not marker.expanded
        marker.detail = _branch_detail(marker)
        marker.touch()
        update.changed.append(marker)
        for row in marker.branch:
            hidden = row.abandoned and not marker.expanded
            if row.hidden != hidden:
                row.hidden = hidden
                row.touch()
                update.changed.append(row)
        return update

    def deliver(self, request_event_count: int) -> Update:
        update = Update()
        self._deliver(request_event_count, update)
        return update

    def tool_row(self, tool_call_id: str) -> Row | None:
        return self._tool_rows.get(tool_call_id)

    # -- event kinds --------------------------------------------------------------------

    def _message(self, event: MessageEvent, index: int, update: Update) -> None:
        self._thinking(event.reasoning_content, event, update)
        queued = event.role == "user" and index >= self.delivered_count
        row = MessageRow(
            timestamp=event.timestamp,
            role=event.role,
            text=event.text,
            event_index=index,
            queued=queued,
        )
        if queued:
            self._queued.append(row)
        self._insert(row, update)

    def _thinking(self, reasoning: str | None, event: Event, update: Update) -> None:
        """The model's reasoning before a reply, folded above it."""
        if reasoning and reasoning.strip():
            self._insert(ThinkingRow(timestamp=event.timestamp, text=reasoning.strip()), update)

    def _action(self, event: ActionEvent, update: Update) -> None:
        self._thinking(event.reasoning_content, event, update)
        thought = event.thought.strip()
        if thought and (
            not event.response_id or event.response_id not in self._responses_with_thought
        ):
            # Parallel tool calls of one response carry the same thought: show it once.
            if event.response_id:
                self._responses_with_thought.add(event.response_id)
            self._insert(
                MessageRow(timestamp=event.timestamp, role="assistant", text=thought), update
            )
        if event.tool_name == "finish":
            message = event.arguments.get("message")
            if isinstance(message, str) and message.strip():
                finished = MessageRow(
                    timestamp=event.timestamp, role="assistant", text=message, finished=True
                )
                self._tool_rows[event.tool_call_id] = finished
                self._insert(finished, update)
                return
        row = ToolRow(
            timestamp=event.timestamp,
            tool_call_id=event.tool_call_id,
            tool_name=event.tool_name,
            arguments=dict(event.arguments),
            raw_arguments=event.raw_arguments,
        )
        self._tool_rows[event.tool_call_id] = row
        self._insert(row, update)

    def _set_pending_paused(self, paused: bool, update: Update) -> None:
        for row in self._tool_rows.values():
            if isinstance(row, ToolRow) and row.observation is None and row.paused != paused:
                row.paused = paused
                row.touch()
                update.changed.append(row)

    def _set_pending_awaiting(self, awaiting: bool, update: Update) -> None:
        for row in self._tool_rows.values():
            if isinstance(row, ToolRow) and row.observation is None and row.awaiting != awaiting:
                row.awaiting = awaiting
                row.touch()
                update.changed.append(row)

    def _observation(self, event: ObservationEvent, update: Update) -> None:
        row = self._tool_rows.get(event.tool_call_id)
        if isinstance(row, MessageRow):
            # The finish tool's message is already shown; its result matters only if it failed.
            if not event.is_error:
                return
            row = None
        if isinstance(row, ToolRow):
            row.observation = event
            self._observation_rows[event.id] = row
            row.touch()
            update.changed.append(row)
            return
        # A result without its call (an older log, or a failed finish): show it on its own.
        orphan = ToolRow(
            timestamp=event.timestamp,
            tool_call_id=event.tool_call_id,
            tool_name=event.tool_name,
            observation=event,
        )
        self._tool_rows[event.tool_call_id] = orphan
        self._observation_rows[event.id] = orphan
        self._insert(orphan, update)

    def _checkpoint(self, event: CheckpointEvent, update: Update) -> None:
        # After a tool call: its row. The first one: the message the run started from.
        if event.event_id is not None:
            row = self._observation_rows.get(event.event_id)
        else:
            row = self._rows_by_event.get(event.after_event_id or "")
            row = row if isinstance(row, MessageRow) else None
        if row is None:
            return
        row.checkpoint_id, row.step = event.checkpoint_id, event.step
        row.touch()
        update.changed.append(row)

    def _rewind(self, event: RewindEvent, update: Update) -> None:
        abandoned = abandoned_ids(self._events)
        marker = MarkerRow(
            timestamp=event.timestamp,
            label="Rewound to the start" if event.step == 0 else f"Rewound to step {event.step}",
            tone=Tone.INFO,
            source="rewind",
        )
        for row in self.rows:
            now = row.event_id in abandoned
            if now == row.abandoned:
                continue
            row.abandoned = now
            row.hidden = now  # newly abandoned rows fold under this rewind's marker
            if now:
                marker.branch.append(row)
            row.touch()
            update.changed.append(row)
        marker.detail = _branch_detail(marker)
        self._insert(marker, update)

    def _mcp_servers(self, event: McpServersEvent, update: Update) -> None:
        for server in event.servers:
            if self._mcp_said.get(server.name) == server:
                continue
            self._mcp_said[server.name] = server
            label, detail, warning = server_line(server)
            row = MarkerRow(
                timestamp=event.timestamp,
                label=label,
                tone=Tone.WARNING if warning else Tone.INFO,
                source="mcp",
                detail=detail,
            )
            self._insert(row, update)

    def _status(self, event: StatusEvent, update: Update) -> None:
        last = self.rows[-1] if self.rows else None
        if isinstance(last, MarkerRow) and (
            status_implied_by(last.source) is event.status or last.status == event.status
        ):
            return
        label, tone = _STATUS_MARKERS.get(event.status, (str(event.status), Tone.NEUTRAL))
        row = MarkerRow(
            timestamp=event.timestamp,
            label=label,
            tone=tone,
            detail=event.detail,
            source="status",
            status=event.status,
        )
        self._insert(row, update)

    def _marker(
        self, label: str, tone: Tone, source: str, event: Event, update: Update, detail: str = ""
    ) -> None:
        last = self.rows[-1] if self.rows else None
        implied = status_implied_by(source)
        if (
            isinstance(last, MarkerRow)
            and last.source == "status"
            and implied is not None
            and last.status == implied
        ):
            # The status event came first: the marker it drew becomes this, more precise one.
            last.label, last.tone, last.source = label, tone, source
            last.touch()
            update.changed.append(last)
            return
        row = MarkerRow(
            timestamp=event.timestamp, label=label, tone=tone, source=source, detail=detail
        )
        self._insert(row, update)

    # -- helpers --------------------------------------------------------------------------

    def _insert(self, row: Row, update: Update) -> None:
        if row.event_id is None and self._current_event is not None:
            row.event_id = self._current_event
            self._rows_by_event.setdefault(self._current_event, row)
        row.position = len(self.rows)
        self.rows.append(row)
        update.inserted.append(row)

    def _deliver(self, request_event_count: int, update: Update) -> None:
        if request_event_count <= self.delivered_count:
            return
        self.delivered_count = request_event_count
        still_queued = []
        for row in self._queued:
            if row.event_index < request_event_count:
                row.queued = False
                row.touch()
                update.changed.append(row)
            else:
                still_queued.append(row)
        self._queued = still_queued


def _size(count: int) -> str:
    return f"{count} bytes" if count < 1024 else f"{count / 1024:.1f} KB"


def _branch_detail(marker: MarkerRow) -> str:
    if not marker.branch:
        return ""
    steps = sum(isinstance(row, ToolRow) for row in marker.branch)
    count = steps or len(marker.branch)
    noun = ("step" if steps else "row") + ("s" if count != 1 else "")
    if marker.expanded:
        return f"The abandoned branch ({count} {noun}) is shown greyed. Click to fold it."
    return f"{count} {noun} of the abandoned branch folded away. Click to show them."
