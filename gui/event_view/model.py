"""EventListModel: the conversation's events as a flat list of display rows."""

from __future__ import annotations

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
from gui.event_view.assembler import RowAssembler, Update
from gui.event_view.live_output import LiveOutput
from gui.event_view.rows import MarkerRow, Row, SummaryRow, ToolRow

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
    """

    # Streamed output repaints at most this often, however fast chunks arrive.
    OUTPUT_REPAINT_MS = 50

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

    # -- the public API ---------------------------------------------------------------------

    def append_event(self, event: Event) -> None:
        self._apply(self._assembler.add(event))

    def set_events(self, events: Sequence[Event]) -> None:
        """Replace everything with ``events`` (reopening a conversation): one reset."""
        self.beginResetModel()
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

    def toggle_summary(self, position: int) -> bool:
        """Fold or unfold the summary row at ``position``; False for any other row."""
        row = self.row_at(position)
        if not isinstance(row, SummaryRow):
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
        return 0 if parent.isValid() else self._count

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
