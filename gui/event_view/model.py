"""EventListModel: the conversation's events as a flat list of display rows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)

from agent.events import Event
from agent.llm.stream import StreamDelta
from gui.event_view.assembler import RowAssembler, Update
from gui.event_view.live_output import LiveOutput
from gui.event_view.rows import MarkerRow, Row, StreamRow, SummaryRow, ThinkingRow, ToolRow
from gui.event_view.streaming import apply_deltas, ends_stream

_NO_PARENT = QModelIndex()


class EventRole(IntEnum):
    ROW = Qt.ItemDataRole.UserRole + 1  # the Row object
    KIND = Qt.ItemDataRole.UserRole + 2  # RowKind value, e.g. "command"
    QUEUED = Qt.ItemDataRole.UserRole + 3  # a user message the model has not seen yet
    FULL_TEXT = Qt.ItemDataRole.UserRole + 4  # everything the row stands for, unclipped
    # What live output changes; a view can repaint one row for it without a relayout.
    OUTPUT = Qt.ItemDataRole.UserRole + 5


class EventListModel(QAbstractListModel):
    """Rows built from ``agent.events`` models.

    Feed it every event of a conversation, in order (``set_events`` then ``append_event``):
    a user message counts as delivered once an assistant-side event says its LLM request was
    built from at least that many events.

    While the model works, one more row follows the events': the reply as it streams in
    (``start_stream``, ``add_stream``), "Thinking… 4 s" until its first piece. The event
    that ends it (the reply, a pause, an error) takes its place in one go.
    """

    # Streamed output repaints at most this often, however fast chunks arrive.
    OUTPUT_REPAINT_MS = 50
    # A streaming reply repaints at the screen's pace at most (30 Hz), the first piece at once.
    STREAM_REPAINT_MS = 33
    # How often "Thinking… N s" counts.
    TICK_MS = 250

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._assembler = RowAssembler()
        self._rows = self._assembler.rows
        # Rows the views know of: the assembler appends first, the insert signals catch up.
        self._count = 0
        self._dirty: dict[int, Row] = {}
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(self.OUTPUT_REPAINT_MS)
        self._flush.timeout.connect(self._flush_output)
        self._live: StreamRow | None = None
        self._live_shown = 0.0  # when the live row was last repainted (perf_counter)
        self._live_flush = QTimer(self)
        self._live_flush.setSingleShot(True)
        self._live_flush.timeout.connect(self._show_live)
        self._tick = QTimer(self)
        self._tick.setInterval(self.TICK_MS)
        self._tick.timeout.connect(self._count_seconds)

    # -- the public API ---------------------------------------------------------------------

    def append_event(self, event: Event) -> None:
        if self._live is not None and ends_stream(event):
            self.end_stream()  # in the same pass as the rows that replace it: no flicker
        self._apply(self._assembler.add(event))

    # -- the reply streaming in -------------------------------------------------------------

    @property
    def live_row(self) -> StreamRow | None:
        """The reply streaming in (or the model thinking), if it is shown."""
        return self._live

    def start_stream(self, request_event_count: int, started: float | None = None) -> None:
        """The model was asked (the messages before ``request_event_count`` have reached
        it): "Thinking…" until its reply streams in."""
        self.mark_delivered(request_event_count)
        row = StreamRow(started=time.monotonic() if started is None else started)
        row.elapsed = int(time.monotonic() - row.started)
        if self._live is not None:
            row.position = self._count
            self._live = row
            index = self.index(self._count)
            self.dataChanged.emit(index, index)
        else:
            self.beginInsertRows(_NO_PARENT, self._count, self._count)
            row.position = self._count
            self._live = row
            self.endInsertRows()
        self._tick.start()

    def add_stream(self, deltas: Sequence[StreamDelta]) -> None:
        """Pieces of the reply; the row repaints at most every STREAM_REPAINT_MS."""
        row = self._live
        if row is None or not apply_deltas(row, deltas):
            return
        if self._live_flush.isActive():
            return
        wait = self.STREAM_REPAINT_MS - (time.perf_counter() - self._live_shown) * 1000
        if wait <= 0:
            self._show_live()
        else:
            self._live_flush.start(int(wait) + 1)

    def end_stream(self) -> None:
        """The live row goes (the reply was recorded, or abandoned)."""
        self._tick.stop()
        self._live_flush.stop()
        if self._live is None:
            return
        self.beginRemoveRows(_NO_PARENT, self._count, self._count)
        self._live = None
        self.endRemoveRows()

    def _show_live(self) -> None:
        self._live_shown = time.perf_counter()
        if self._live is not None:
            index = self.index(self._count)
            self.dataChanged.emit(index, index)

    def _count_seconds(self) -> None:
        row = self._live
        if row is None:
            self._tick.stop()
            return
        elapsed = int(time.monotonic() - row.started)
        if elapsed != row.elapsed:
            row.elapsed = elapsed
            if not row.answering:  # the seconds show until the answer starts
                row.touch()
                self._show_live()

    def set_events(self, events: Sequence[Event]) -> None:
        """Replace everything with ``events`` (reopening a conversation): one reset."""
        self.beginResetModel()
        self._drop_live()
        self._flush.stop()
        self._dirty.clear()
        self._assembler = RowAssembler()
        add = self._assembler.add
        for event in events:
            add(event)
        self._rows = self._assembler.rows
        self._count = len(self._rows)
        self.endResetModel()

    @property
    def assembler(self) -> RowAssembler:
        """The rows shown and what builds them; kept to show them again later."""
        return self._assembler

    def show_assembled(self, assembler: RowAssembler) -> None:
        """Show rows assembled before (another conversation's, shown again): one reset,
        nothing rebuilt, so the delegate's measured heights still hold."""
        self.beginResetModel()
        self._drop_live()
        self._flush.stop()
        self._dirty.clear()
        self._assembler = assembler
        self._rows = assembler.rows
        self._count = len(self._rows)
        self.endResetModel()

    def append_output(self, tool_call_id: str, chunk: str) -> None:
        """Add streamed output to the command's row; repaints are coalesced."""
        row = self._assembler.tool_row(tool_call_id)
        if not isinstance(row, ToolRow) or row.observation is not None or not chunk:
            return
        row.live.append(chunk)
        row.touch()
        self._dirty[row.uid] = row
        if not self._flush.isActive():
            self._flush.start()

    def replace_output(self, tool_call_id: str, text: str) -> None:
        """The command's live output is ``text``, all of it (shown again after a switch:
        chunks that came while another conversation was shown were not appended)."""
        row = self._assembler.tool_row(tool_call_id)
        if not isinstance(row, ToolRow) or row.observation is not None:
            return
        row.live = LiveOutput()
        self.append_output(tool_call_id, text)

    def mark_delivered(self, request_event_count: int) -> None:
        """Every user message before event ``request_event_count`` has reached the model."""
        self._apply(self._assembler.deliver(request_event_count))

    def clear(self) -> None:
        self.set_events(())

    def _drop_live(self) -> None:
        self._live = None
        self._tick.stop()
        self._live_flush.stop()

    def toggle_summary(self, position: int) -> bool:
        """Fold or unfold the summary (or Thinking) row at ``position``; False for any
        other row."""
        row = self.row_at(position)
        if not isinstance(row, SummaryRow | ThinkingRow | StreamRow):
            return False
        row.toggle()
        index = self.index(position)
        self.dataChanged.emit(index, index)
        return True

    # -- queries ----------------------------------------------------------------------------

    def toggle_branch(self, position: int) -> None:
        """Unfold or fold the abandoned branch of the rewind marker at ``position``."""
        row = self.row_at(position)
        if isinstance(row, MarkerRow):
            self._apply(self._assembler.toggle_branch(row))

    def row_at(self, position: int) -> Row | None:
        if 0 <= position < self._count:
            return self._rows[position]
        if position == self._count and self._live is not None:
            return self._live
        return None

    def rows(self) -> Sequence[Row]:
        return self._rows[: self._count]

    def index_of_tool_call(self, tool_call_id: str) -> QModelIndex:
        row = self._assembler.tool_row(tool_call_id)
        return self.index(row.position) if row is not None else QModelIndex()

    @property
    def event_count(self) -> int:
        return self._assembler.event_count

    # -- QAbstractListModel -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _NO_PARENT) -> int:
        return 0 if parent.isValid() else self._count + (self._live is not None)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole or role == Qt.ItemDataRole.AccessibleTextRole:
            return row.summary()
        if role == EventRole.ROW:
            return row
        if role == EventRole.KIND:
            return str(row.kind)
        if role == EventRole.QUEUED:
            return bool(getattr(row, "queued", False))
        if role == EventRole.FULL_TEXT or role == EventRole.OUTPUT:
            return row.plain_text()
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row)
        return None

    def roleNames(self) -> dict[int, QByteArray]:
        names = super().roleNames()
        names.update(
            {
                int(EventRole.ROW): QByteArray(b"row"),
                int(EventRole.KIND): QByteArray(b"kind"),
                int(EventRole.QUEUED): QByteArray(b"queued"),
                int(EventRole.FULL_TEXT): QByteArray(b"fullText"),
                int(EventRole.OUTPUT): QByteArray(b"output"),
            }
        )
        return names

    # -- internals ------------------------------------------------------------------------------

    def _apply(self, update: Update) -> None:
        for row in update.changed:
            self._dirty.pop(row.uid, None)
            index = self.index(row.position)
            self.dataChanged.emit(index, index)
        if update.inserted:
            first = update.inserted[0].position
            last = update.inserted[-1].position
            self.beginInsertRows(_NO_PARENT, first, last)
            self._count = last + 1
            if self._live is not None:  # it stays last
                self._live.position = self._count
            self.endInsertRows()

    def _flush_output(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for row in dirty.values():
            index = self.index(row.position)
            self.dataChanged.emit(index, index, [EventRole.OUTPUT])


def _tooltip(row: Row) -> str | None:
    if isinstance(row, ToolRow):
        output = row.output.removesuffix("\n")
        total = output.count("\n") + 1 if output else 0
        if total > 20:
            return (
                f"{total:,} lines of output; the row shows the first and last ones.\n"
                "Select the row and press Ctrl+C to copy all of it."
            )
    if row.timestamp is not None:
        return row.timestamp.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return None
