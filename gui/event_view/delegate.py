"""Sizes and paints rows; caches each row's card and its height per width.

A height is either exact (every part measured) or an estimate (a markdown message not yet
laid out at this width). Painting always lays out for real; when the truth differs from
what the view reserved, ``height_corrected`` asks the view to lay out again.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Signal
from PySide6.QtGui import QFont, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from gui.event_view.cards import Card
from gui.event_view.colors import EventColors
from gui.event_view.markdown import DocumentCache
from gui.event_view.metrics import Metrics
from gui.event_view.model import EventListModel
from gui.event_view.parts import MarkdownPart, PaintEnv
from gui.event_view.rows import Row
from gui.event_view.stream_cards import card_for

ABANDONED_OPACITY = 0.45


class EventDelegate(QStyledItemDelegate):
    height_corrected = Signal()

    CARD_CACHE = 20_000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._width = 600
        self._env = PaintEnv(
            Metrics.from_font(QFont()), EventColors.from_palette(QPalette()), DocumentCache()
        )
        self._cards: OrderedDict[int, tuple[int, Card]] = OrderedDict()
        # uid -> (version, width, height, exact)
        self._heights: dict[int, tuple[int, int, int, bool]] = {}
        # uid -> (version, width, size): what sizeHint last answered
        self._sizes: dict[int, tuple[int, int, QSize]] = {}

    # -- configuration ------------------------------------------------------------------------

    def configure(self, font: QFont, palette: QPalette) -> None:
        """Adopt the view's font and colours; every cached layout is dropped."""
        self._env = PaintEnv(
            Metrics.from_font(font), EventColors.from_palette(palette), DocumentCache()
        )
        self.forget_all()

    def forget_all(self) -> None:
        self._cards.clear()
        self._heights.clear()
        self._sizes.clear()
        self._env.docs.clear()

    @property
    def width(self) -> int:
        return self._width

    def set_width(self, width: int) -> bool:
        """Set the row width; True when it changed (every height is then re-measured)."""
        width = max(160, width)
        if width == self._width:
            return False
        self._width = width
        return True

    @property
    def env(self) -> PaintEnv:
        return self._env

    # -- measuring ----------------------------------------------------------------------------

    def card(self, row: Row) -> Card:
        cached = self._cards.get(row.uid)
        if cached is not None and cached[0] == row.version:
            return cached[1]
        card = card_for(row)
        self._cards[row.uid] = (row.version, card)
        self._cards.move_to_end(row.uid)
        if len(self._cards) > self.CARD_CACHE:
            self._cards.popitem(last=False)
        return card

    def document(self, row: Row) -> QTextDocument | None:
        """The laid-out markdown of a message row at the current width (None for others)."""
        card = self.card(row)
        for part in card.parts:
            if isinstance(part, MarkdownPart):
                width = card.content_width(self._width, self._env)
                return self._env.docs.get(
                    (part.uid, part.version, width), part.text, self._env.metrics, self._env.colors
                )
        return None

    def row_height(self, row: Row, exact: bool = False) -> int:
        cached = self._heights.get(row.uid)
        if (
            cached is not None
            and cached[0] == row.version
            and cached[1] == self._width
            and (cached[3] or not exact)
        ):
            return cached[2]
        height, is_exact = self.card(row).measure(self._width, self._env, exact)
        self._heights[row.uid] = (row.version, self._width, height, is_exact)
        size = self._sizes.get(row.uid)
        if size is not None and size[2].height() != height:
            del self._sizes[row.uid]
        return height

    def reserved_height(self, row: Row) -> int | None:
        """The height last handed to the view for ``row`` (whatever version it was for)."""
        cached = self._sizes.get(row.uid)
        if cached is None or cached[1] != self._width:
            return None
        return cached[2].height()

    def needs_measuring(self, row: Row) -> bool:
        cached = self._heights.get(row.uid)
        return not (
            cached is not None
            and cached[3]
            and cached[0] == row.version
            and cached[1] == self._width
        )

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        # Called for every row on every layout (10,000 times per appended row at 10,000
        # rows): the cached path is kept to a dict lookup and a comparison.
        row = _row(index)
        if row is None:
            return QSize(self._width, 0)
        cached = self._sizes.get(row.uid)
        if cached is not None and cached[0] == row.version and cached[1] == self._width:
            return cached[2]
        size = QSize(self._width, self.row_height(row))
        self._sizes[row.uid] = (row.version, self._width, size)
        return size

    # -- painting -----------------------------------------------------------------------------

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row = _row(index)
        if row is None:
            return
        reserved = option.rect.height()
        height = self.row_height(row, exact=True)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        # The width the row was measured at, whatever width the view gives the item.
        rect = QRectF(option.rect.x(), option.rect.y(), self._width, reserved)
        painter.setClipRect(rect)
        if row.abandoned:
            painter.setOpacity(ABANDONED_OPACITY)  # a branch a rewind left: there, but faded
        self.card(row).paint(painter, rect, self._env, selected, reserved)
        painter.restore()
        if height != reserved:
            self.height_corrected.emit()


def _row(index: QModelIndex | QPersistentModelIndex) -> Row | None:
    model = index.model()
    if isinstance(model, EventListModel):
        return model.row_at(index.row())
    return None
