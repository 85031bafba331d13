"""The History panel: saved conversations, newest first, titled by their first message.

Listing reads every conversation's state file, so it runs in the background (gui.background),
one listing at a time: refreshes asked while one runs fold into one more after it. The
panel only says what the user asked for (open, delete); the window and its session do the
work.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agent.state import ConversationSummary
from gui.background import Background, Coalesced
from gui.theme import STATUS_WORDS, status_color

log = logging.getLogger(__name__)

LAST_OPEN_FILE = ".berth-last-open.json"
IdRole = Qt.ItemDataRole.UserRole + 1
SummaryRole = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


class LastOpen(BaseModel):
    """Which conversation was open when the app last closed (kept beside the conversations)."""

    conversation_id: str | None = None


def load_last_open(root: Path) -> str | None:
    try:
        return LastOpen.model_validate_json((root / LAST_OPEN_FILE).read_bytes()).conversation_id
    except (OSError, ValidationError, json.JSONDecodeError):
        return None


def save_last_open(root: Path, conversation_id: str | None) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
        path = root / LAST_OPEN_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(LastOpen(conversation_id=conversation_id).model_dump_json())
        tmp.replace(path)
    except OSError as exc:  # not worth bothering the user: only the reopen is lost
        log.warning("could not remember the open conversation: %s", exc)


def when(moment: datetime, now: datetime | None = None) -> str:
    """Today "14:05", this year "Nov 23", before that "2025-11-23"."""
    local = moment.astimezone()
    now = (now or datetime.now(UTC)).astimezone()
    if local.date() == now.date():
        return local.strftime("%H:%M")
    if local.year == now.year:
        return local.strftime("%b %d")
    return local.strftime("%Y-%m-%d")


class HistoryModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[ConversationSummary] = []

    def set_items(self, items: list[ConversationSummary]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def items(self) -> list[ConversationSummary]:
        return list(self._items)

    def row_of(self, conversation_id: str) -> int:
        for row, item in enumerate(self._items):
            if item.id == conversation_id:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{item.title}\n{STATUS_WORDS.get(item.agent_status, '')} · {when(item.updated)}"
        if role == IdRole:
            return item.id
        if role == SummaryRole:
            return item
        return None


class HistoryDelegate(QStyledItemDelegate):
    """A status dot, the title (elided) and the time, on one line."""

    DOT = 8

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(180, option.fontMetrics.height() + 14)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        item = index.data(SummaryRole)
        if not isinstance(item, ConversationSummary):
            return
        painter.save()
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        if selected:
            painter.fillRect(rect, palette.highlight())
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor("#eaeef2"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        dot = QRect(rect.left() + 8, rect.center().y() - self.DOT // 2 + 1, self.DOT, self.DOT)
        # On the selection's colour the dot keeps a white ring, or a blue dot would vanish.
        if selected:
            painter.setPen(QPen(palette.highlightedText().color(), 1.5))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(status_color(item.agent_status)))
        painter.drawEllipse(dot)
        text_color = palette.highlightedText().color() if selected else palette.text().color()
        metrics = option.fontMetrics
        stamp = when(item.updated)
        stamp_width = metrics.horizontalAdvance(stamp)
        right = rect.right() - 8
        painter.setPen(text_color if selected else QColor("#59636e"))
        painter.drawText(
            QRect(right - stamp_width, rect.top(), stamp_width, rect.height()),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            stamp,
        )
        title_left = dot.right() + 8
        title_rect = QRect(
            title_left, rect.top(), right - stamp_width - 8 - title_left, rect.height()
        )
        painter.setPen(text_color)
        painter.drawText(
            title_rect,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            metrics.elidedText(item.title, Qt.TextElideMode.ElideRight, title_rect.width()),
        )
        painter.restore()


class HistoryPanel(QWidget):
    """The list of saved conversations, with Delete."""

    open_requested = Signal(str)  # conversation id
    delete_requested = Signal(str, bool)  # conversation id, also remove its container

    def __init__(self, persistence_dir: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history_panel")
        self.persistence_dir = persistence_dir
        self._listing: Coalesced[list[ConversationSummary]] = Coalesced(
            Background(self), self._on_listed, self._on_list_failed, name="history-listing"
        )
        self._current: str | None = None
        self.delete_dialog: QMessageBox | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        title = QLabel("History", self)
        title.setObjectName("panel_title")
        header.addWidget(title, 1)
        self.delete_button = QToolButton(self)
        self.delete_button.setObjectName("history_delete")
        self.delete_button.setText("Delete")
        self.delete_button.setToolTip("Delete the selected conversation")
        self.delete_button.setAutoRaise(True)
        self.delete_button.setEnabled(False)
        self.delete_button.clicked.connect(self.ask_delete_selected)
        header.addWidget(self.delete_button)
        layout.addLayout(header)

        self.model = HistoryModel(self)
        self.list_view = QListView(self)
        self.list_view.setObjectName("history_list")
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(HistoryDelegate(self.list_view))
        self.list_view.setMouseTracking(True)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.customContextMenuRequested.connect(self._context_menu)
        self.list_view.clicked.connect(self._clicked)
        self.list_view.selectionModel().currentChanged.connect(
            lambda *_: self.delete_button.setEnabled(self.selected_id() is not None)
        )
        self.empty_label = QLabel("No saved conversations yet", self)
        self.empty_label.setObjectName("history_empty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(self.empty_label)
        self._show_empty()

    # --- what the window asks ---------------------------------------------------------------

    def refresh(self) -> None:
        """List the saved conversations again, off the GUI thread (at most one at a time)."""
        root = self.persistence_dir

        def work() -> list[ConversationSummary]:
            from agent.persistence import list_conversations

            return list_conversations(root)

        self._listing.request(work)

    @property
    def refreshing(self) -> bool:
        """True while a listing runs (tests wait for it)."""
        return self._listing.busy

    def set_current(self, conversation_id: str | None) -> None:
        """Highlight the open conversation (without asking to open it)."""
        self._current = conversation_id
        self._select_current()

    def selected_id(self) -> str | None:
        index = self.list_view.currentIndex()
        return index.data(IdRole) if index.isValid() else None

    def ids(self) -> list[str]:
        return [item.id for item in self.model.items()]

    def ask_delete_selected(self) -> None:
        conversation_id = self.selected_id()
        if conversation_id is not None:
            self.ask_delete(conversation_id)

    def ask_delete(self, conversation_id: str) -> None:
        """Ask (in a window-modal box that blocks nothing else), then say delete_requested."""
        row = self.model.row_of(conversation_id)
        if row < 0:
            return
        title = self.model.items()[row].title
        if self.delete_dialog is not None:
            self.delete_dialog.close()
        box = QMessageBox(self)
        box.setObjectName("delete_conversation_dialog")
        box.setWindowTitle("Delete conversation")
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(f"Delete “{title}”?")
        box.setInformativeText("Its messages and history are deleted from this computer.")
        remove = QCheckBox("Also remove its container and volume", box)
        remove.setObjectName("delete_remove_container")
        box.setCheckBox(remove)
        box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Ok).setText("Delete")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: QAbstractButton) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Ok:
                self._remove_row(conversation_id)
                self.delete_requested.emit(conversation_id, remove.isChecked())

        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _r: self._forget_dialog(box))
        self.delete_dialog = box
        box.open()

    # --- internals --------------------------------------------------------------------------

    def _forget_dialog(self, box: QMessageBox) -> None:
        if self.delete_dialog is box:
            self.delete_dialog = None

    def _remove_row(self, conversation_id: str) -> None:
        self.model.set_items([i for i in self.model.items() if i.id != conversation_id])
        self._select_current()
        self._show_empty()

    def _on_listed(self, items: list[ConversationSummary]) -> None:
        self.model.set_items(items)
        self._select_current()
        self._show_empty()

    def _on_list_failed(self, message: str) -> None:
        # The rows already shown stay; the next refresh tries again.
        log.warning("could not list the saved conversations: %s", message)

    def _select_current(self) -> None:
        row = self.model.row_of(self._current) if self._current else -1
        selection = self.list_view.selectionModel()
        if row < 0:
            selection.clearSelection()
            self.list_view.setCurrentIndex(QModelIndex())
        else:
            self.list_view.setCurrentIndex(self.model.index(row))
        self.delete_button.setEnabled(self.selected_id() is not None)

    def _show_empty(self) -> None:
        empty = self.model.rowCount() == 0
        self.empty_label.setVisible(empty)
        self.list_view.setVisible(not empty)

    def _clicked(self, index: QModelIndex) -> None:
        conversation_id = index.data(IdRole)
        if conversation_id and conversation_id != self._current:
            self.open_requested.emit(conversation_id)

    def _context_menu(self, pos: Any) -> None:
        index = self.list_view.indexAt(pos)
        if not index.isValid():
            return
        conversation_id = index.data(IdRole)
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Open", lambda: self.open_requested.emit(conversation_id))
        menu.addAction("Delete…", lambda: self.ask_delete(conversation_id))
        menu.popup(self.list_view.viewport().mapToGlobal(pos))
