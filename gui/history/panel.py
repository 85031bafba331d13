"""The History panel: saved conversations, newest first, titled by their first message.

Listing reads every conversation's state file, so it runs in the background (gui.background),
one listing at a time: refreshes asked while one runs fold into one more after it. The
panel only says what the user asked for (open, delete); the window and its session do the
work.

Each row shows its conversation's status, a dot and a word from the theme's status table:
the live status the window reports (``set_live_status``) for a conversation that is open,
else the one saved on disk.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
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
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
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

from agent.conversation.state import ConversationSummary
from agent.status import AgentStatus
from gui.background import Background, Coalesced, Job
from gui.theme import DIM_TEXT, status_color, status_word

log = logging.getLogger(__name__)

LAST_OPEN_FILE = ".berth-last-open.json"
IdRole = Qt.ItemDataRole.UserRole + 1
SummaryRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3  # AgentStatus shown: the live one, else the saved
StatusWordRole = Qt.ItemDataRole.UserRole + 4  # the word shown: "Running", "Starting"…
StatusDetailRole = Qt.ItemDataRole.UserRole + 5  # the words after it ("" for none)
StatusColorRole = Qt.ItemDataRole.UserRole + 6  # the dot's colour, "#rrggbb"
LiveRole = Qt.ItemDataRole.UserRole + 7  # True while the conversation is open in the window
RepositoryRole = Qt.ItemDataRole.UserRole + 8  # "click → berth/1a2b3c4d", "" on a volume
Index = QModelIndex | QPersistentModelIndex


class LastOpen(BaseModel):
    """Which conversation was shown when the app last closed, and which were open (kept
    beside the conversations): on the next start they are all reopened."""

    conversation_id: str | None = None
    open_ids: list[str] = []


def _load(root: Path) -> LastOpen:
    try:
        return LastOpen.model_validate_json((root / LAST_OPEN_FILE).read_bytes())
    except (OSError, ValidationError, json.JSONDecodeError):
        return LastOpen()


def load_last_open(root: Path) -> str | None:
    return _load(root).conversation_id


def load_open_ids(root: Path) -> list[str]:
    return _load(root).open_ids


def save_last_open(
    root: Path, conversation_id: str | None, open_ids: list[str] | None = None
) -> None:
    """Remember the conversation shown; ``open_ids`` (at quit): all that were open."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        path = root / LAST_OPEN_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            LastOpen(conversation_id=conversation_id, open_ids=open_ids or []).model_dump_json()
        )
        tmp.replace(path)
    except OSError as exc:  # not worth bothering the user: only the reopen is lost
        log.warning("could not remember the open conversation: %s", exc)


class LastOpenWriter:
    """``save_last_open`` off the GUI thread (a write and rename took 15-20 ms there, as each
    conversation opened or was shown), the latest asked always the one on disk: a write
    asked earlier that runs later is dropped."""

    def __init__(self, background: Background, root: Path) -> None:
        self._background = background
        self._root = root
        self._lock = threading.Lock()
        self._asked = 0
        self._written = 0
        self._latest: Job | None = None

    def save_soon(self, conversation_id: str) -> None:
        self._asked += 1
        number = self._asked
        self._latest = self._background.run(
            lambda: self._write(number, conversation_id, None), name="last-open"
        )

    def flush(self, timeout: float = 2.0) -> None:
        """At quit, with nothing more to write: let the last write asked land first."""
        if self._latest is not None:
            self._latest.wait(timeout)

    def save_now(self, conversation_id: str | None, open_ids: list[str]) -> None:
        """At quit: on disk before this returns, whatever is still in flight."""
        self._asked += 1
        self._write(self._asked, conversation_id, open_ids)

    def _write(self, number: int, conversation_id: str | None, open_ids: list[str] | None) -> None:
        with self._lock:
            if number <= self._written:
                return
            self._written = number
            save_last_open(self._root, conversation_id, open_ids)


def when(moment: datetime, now: datetime | None = None) -> str:
    """Today "14:05", this year "Nov 23", before that "2025-11-23"."""
    local = moment.astimezone()
    now = (now or datetime.now(UTC)).astimezone()
    if local.date() == now.date():
        return local.strftime("%H:%M")
    if local.year == now.year:
        return local.strftime("%b %d")
    return local.strftime("%Y-%m-%d")


@dataclass(frozen=True)
class LiveStatus:
    """What the window says an open conversation is doing now."""

    status: AgentStatus
    detail: str = ""
    starting: bool = False


class HistoryModel(QAbstractListModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[ConversationSummary] = []
        # Kept apart from the listing: a refresh replaces the rows, not what is live.
        self._live: dict[str, LiveStatus] = {}

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

    def set_live(self, conversation_id: str, live: LiveStatus | None) -> None:
        if self._live.get(conversation_id) == live:
            return
        if live is None:
            self._live.pop(conversation_id, None)
        else:
            self._live[conversation_id] = live
        row = self.row_of(conversation_id)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def _shown(self, item: ConversationSummary) -> LiveStatus:
        live = self._live.get(item.id)
        return live if live is not None else LiveStatus(item.agent_status, item.status_detail)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.title
        if role == IdRole:
            return item.id
        if role == SummaryRole:
            return item
        if role == LiveRole:
            return item.id in self._live
        shown = self._shown(item)
        word = status_word(shown.status, starting=shown.starting)
        if role == StatusRole:
            return shown.status
        if role == StatusWordRole:
            return word
        if role == StatusDetailRole:
            return shown.detail
        if role == StatusColorRole:
            return status_color(shown.status, starting=shown.starting)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{item.title}, {word}"
        if role == Qt.ItemDataRole.ToolTipRole:
            rest = _after_word(word, shown.detail)
            said = f"{word}: {rest}" if rest else word
            copy = f"\nOn a copy of {item.repo}, branch {item.branch or '(not made yet)'}"
            return f"{item.title}\n{said} · {when(item.updated)}" + (copy if item.repo else "")
        if role == RepositoryRole:
            return repository_line(item)
        return None


def repository_line(item: ConversationSummary) -> str:
    """What a row says of the repository a conversation works on a copy of: its folder's
    name and the branch the work is handed back as ("" for a conversation on a volume)."""
    if not item.repo:
        return ""
    name = Path(item.repo).name or item.repo
    return f"{name} \N{RIGHTWARDS ARROW} {item.branch}" if item.branch else name


def _after_word(word: str, detail: str) -> str:
    """The detail on one line, without the status word it often starts with ("Paused; the
    container is frozen" beside "Paused" reads as "the container is frozen")."""
    text = " ".join(detail.split())
    if text.lower().startswith(word.lower()):
        text = text[len(word) :].lstrip(" ;:,.-·")
    return text


class HistoryDelegate(QStyledItemDelegate):
    """Two lines: the title (elided) and the time; under it a status dot, its word in the
    status colour and what the status says (elided), dimmed."""

    DOT = 8
    PAD = 8  # left and right
    GAP = 2  # between the lines

    @staticmethod
    def _small(font: QFont) -> QFont:
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        return small

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        small = QFontMetrics(self._small(option.font))
        return QSize(180, option.fontMetrics.height() + self.GAP + small.height() + 12)

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
            painter.fillRect(rect, palette.midlight())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_color = palette.highlightedText().color() if selected else palette.text().color()
        dim_color = text_color if selected else QColor(DIM_TEXT)
        metrics = option.fontMetrics
        small_font = self._small(option.font)
        small = QFontMetrics(small_font)
        top = rect.top() + 6
        left, right = rect.left() + self.PAD, rect.right() - self.PAD

        # Line 1: the title, and when it last changed on the right.
        line1 = QRect(left, top, right - left, metrics.height())
        stamp = when(item.updated)
        painter.setFont(small_font)
        stamp_width = painter.fontMetrics().horizontalAdvance(stamp)
        painter.setPen(dim_color)
        painter.drawText(line1, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, stamp)
        painter.setFont(option.font)
        painter.setPen(text_color)
        title_width = line1.width() - stamp_width - 8
        painter.drawText(
            QRect(line1.left(), line1.top(), title_width, line1.height()),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            metrics.elidedText(item.title, Qt.TextElideMode.ElideRight, title_width),
        )

        # Line 2: the status dot, its word, what it says.
        line2 = QRect(left, line1.bottom() + 1 + self.GAP, right - left, small.height())
        color = QColor(str(index.data(StatusColorRole)))
        dot = QRect(left, line2.center().y() - self.DOT // 2 + 1, self.DOT, self.DOT)
        # On the selection's colour the dot keeps a white ring, or a blue dot would vanish.
        if selected:
            painter.setPen(QPen(palette.highlightedText().color(), 1.5))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(dot)
        word = str(index.data(StatusWordRole))
        word_font = QFont(small_font)
        if index.data(LiveRole):
            word_font.setWeight(QFont.Weight.DemiBold)  # open in the window: its live status
        painter.setFont(word_font)
        word_metrics = painter.fontMetrics()  # the painter's device: measured as drawn
        word_left = dot.right() + 7
        word_width = min(word_metrics.horizontalAdvance(word) + 1, right - word_left)
        painter.setPen(text_color if selected else color)
        painter.drawText(
            QRect(word_left, line2.top(), word_width, line2.height()),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            word_metrics.elidedText(word, Qt.TextElideMode.ElideRight, word_width),
        )
        detail = _after_word(word, str(index.data(StatusDetailRole) or ""))
        where = repository_line(item)
        detail = f"{where} · {detail}" if where and detail else where or detail
        detail_left = word_left + word_width
        if detail and right - detail_left > 24:
            painter.setFont(small_font)
            painter.setPen(dim_color)
            width = right - detail_left
            painter.drawText(
                QRect(detail_left, line2.top(), width, line2.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                painter.fontMetrics().elidedText(
                    f" · {detail}", Qt.TextElideMode.ElideRight, width
                ),
            )
        painter.restore()


class HistoryPanel(QWidget):
    """The list of saved conversations, with Delete."""

    open_requested = Signal(str)  # conversation id
    delete_requested = Signal(str, bool)  # conversation id, also remove its container
    close_requested = Signal(str)  # conversation id: stop its container, keep it listed

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
            from agent.conversation.persistence import list_conversations

            return list_conversations(root)

        self._listing.request(work)

    @property
    def refreshing(self) -> bool:
        """True while a listing runs (tests wait for it)."""
        return self._listing.busy

    def set_live_status(
        self,
        conversation_id: str,
        status: AgentStatus | None,
        detail: str = "",
        *,
        starting: bool = False,
    ) -> None:
        """What an open conversation is doing now, shown on its row as it changes (also for
        a row the listing has yet to bring). ``None``: no longer open; the row goes back to
        the status saved on disk. ``starting``: its container is starting."""
        live = None if status is None else LiveStatus(status, detail, starting)
        self.model.set_live(conversation_id, live)

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
        # Checked: left behind, they would be leftovers nobody sees (Settings lists them).
        remove.setChecked(True)
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
        self.model.set_live(conversation_id, None)
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

    def menu_for(self, conversation_id: str) -> QMenu:
        """The row's menu. Close is for an open conversation: its container stops (open
        ones keep theirs running until then), and a click reopens it."""
        menu = QMenu(self)
        menu.setObjectName("history_menu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Open", lambda: self.open_requested.emit(conversation_id))
        close = menu.addAction("Close", lambda: self.close_requested.emit(conversation_id))
        row = self.model.row_of(conversation_id)
        close.setEnabled(row >= 0 and bool(self.model.index(row).data(LiveRole)))
        close.setToolTip("Pause it if it runs and stop its container; it stays in the list")
        menu.addAction("Delete…", lambda: self.ask_delete(conversation_id))
        return menu

    def _context_menu(self, pos: Any) -> None:
        index = self.list_view.indexAt(pos)
        if not index.isValid():
            return
        self.menu_for(index.data(IdRole)).popup(self.list_view.viewport().mapToGlobal(pos))
