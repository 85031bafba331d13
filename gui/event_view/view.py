"""EventView: the conversation's event stream, virtualised (rows are painted, not widgets).

It follows new rows while the user is at the bottom and stays put once they scroll up;
scrolling back down resumes following. Row heights that were only estimated are measured
in idle time, and every re-layout keeps the row at the top of the viewport in place.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QMenu, QStyle, QWidget

from gui.event_view.delegate import EventDelegate
from gui.event_view.jump_button import JumpToLatestButton
from gui.event_view.model import EventListModel, EventRole
from gui.event_view.rows import MarkerRow, Row, StreamRow, SummaryRow, ThinkingRow
from gui.event_view.step_button import StepButton, step_menu


class EventView(QListView):
    # A step's "Rewind to here" / "Fork from here" (context menu or hover button): the
    # window asks before it discards anything and runs the command off this thread.
    rewind_requested = Signal(str, int)  # checkpoint id, step
    fork_requested = Signal(str, int)

    # Within this many pixels of the bottom counts as "at the bottom".
    FOLLOW_SLACK = 8
    # Idle measuring works in slices this long (ms), so the GUI thread never stalls.
    MEASURE_SLICE_MS = 6.0
    # Rows measured exactly as they are inserted (the newest ones are on screen).
    MEASURE_ON_INSERT = 40

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("event_view")
        self.setAccessibleName("Conversation events")
        self._model = EventListModel(self)
        self._delegate = EventDelegate(self)
        self._delegate.configure(self.font(), self.palette())
        self.setModel(self._model)
        self.setItemDelegate(self._delegate)

        self.setUniformItemSizes(False)
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        # Only a width change moves rows (they wrap): resizeEvent handles it, and a height
        # change costs nothing.
        self.setResizeMode(QListView.ResizeMode.Fixed)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.verticalScrollBar().setSingleStep(20)

        self._following = True
        self._adjusting = False
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

        self._relayout_timer = QTimer(self)
        self._relayout_timer.setSingleShot(True)
        self._relayout_timer.setInterval(0)
        self._relayout_timer.timeout.connect(self.relayout)
        self._delegate.height_corrected.connect(self._relayout_timer.start)

        self._measure_timer = QTimer(self)
        self._measure_timer.setInterval(0)
        self._measure_timer.timeout.connect(self._measure_some)
        self._measure_next = -1
        self._measure_changed = False

        self._model.modelReset.connect(self._on_reset)

        self._jump = JumpToLatestButton(self)
        self._jump.clicked.connect(self.scroll_to_end)

        copy = QAction("Copy", self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selection)
        self.addAction(copy)
        select_all = QAction("Select All", self)
        select_all.setShortcut(QKeySequence.StandardKey.SelectAll)
        select_all.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        select_all.triggered.connect(self.selectAll)
        self.addAction(select_all)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)

        self._step_button = StepButton(self)
        self._step_button.rewind_clicked.connect(self.rewind_requested)
        self._step_button.fork_clicked.connect(self.fork_requested)
        self.viewport().setMouseTracking(True)
        self.clicked.connect(self._on_clicked)

    # -- public API ---------------------------------------------------------------------------

    def model(self) -> EventListModel:
        return self._model

    def event_delegate(self) -> EventDelegate:
        return self._delegate

    @property
    def following(self) -> bool:
        """True while new rows scroll into view (the user has not scrolled up)."""
        return self._following

    def scroll_to_end(self) -> None:
        """Jump to the newest row and follow again."""
        self._following = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._update_jump()

    def selected_text(self) -> str:
        positions = sorted({index.row() for index in self.selectionModel().selectedIndexes()})
        texts = []
        for position in positions:
            row = self._model.row_at(position)
            if row is not None:
                texts.append(row.plain_text())
        return "\n\n".join(texts)

    def copy_selection(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)

    @property
    def step_button(self) -> StepButton:
        """The floating button over the hovered step (hidden when no step is hovered)."""
        return self._step_button

    def step_menu_at(self, pos: QPoint) -> QMenu:
        """The context menu for the row at ``pos`` (viewport coordinates)."""
        menu = QMenu(self)
        for action in self.actions():
            menu.addAction(action)
        row = self._model.row_at(self.indexAt(pos).row())
        if row is not None and row.checkpoint_id is not None and row.step is not None:
            menu.addSeparator()
            checkpoint_id, step = row.checkpoint_id, row.step
            for action in step_menu(menu, step).actions():
                action.setParent(menu)
                menu.addAction(action)
            rewind, fork = menu.actions()[-2:]
            rewind.triggered.connect(lambda: self.rewind_requested.emit(checkpoint_id, step))
            fork.triggered.connect(lambda: self.fork_requested.emit(checkpoint_id, step))
        return menu

    def _show_menu(self, pos: QPoint) -> None:
        self.step_menu_at(pos).popup(self.viewport().mapToGlobal(pos))

    def _on_clicked(self, index: QModelIndex) -> None:
        row = self._model.row_at(index.row())
        if isinstance(row, MarkerRow) and row.foldable:
            self._model.toggle_branch(index.row())
        elif isinstance(row, SummaryRow | ThinkingRow | StreamRow):
            self._toggle_summary(index)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        self._hover(event.position().toPoint())

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        if not self._step_button.underMouse() and not self._step_button.menu().isVisible():
            self._step_button.hide()

    def _hover(self, pos: QPoint) -> None:
        index = self.indexAt(pos)
        row = self._model.row_at(index.row()) if index.isValid() else None
        if row is None or row.checkpoint_id is None or row.step is None:
            if not self._step_button.menu().isVisible():
                self._step_button.hide()
            return
        self._step_button.show_for(row.checkpoint_id, row.step, self.visualRect(index))

    def _sync_hidden(self, first: int, last: int) -> None:
        for position in range(first, last + 1):
            row: Row | None = self._model.row_at(position)
            if row is not None and self.isRowHidden(position) != row.hidden:
                self.setRowHidden(position, row.hidden)

    def relayout(self) -> None:
        """Lay every row out again, keeping what the user looks at where it is."""
        self._relayout_timer.stop()
        if self._following or self._model.rowCount() == 0:
            self.doItemsLayout()
            self.scroll_to_end()
            return
        anchor = self.indexAt(QPoint(self.viewport().width() // 2, 0))
        before = self.visualRect(anchor).top() if anchor.isValid() else 0
        self.doItemsLayout()
        if anchor.isValid():
            shift = self.visualRect(anchor).top() - before
            if shift:
                self._adjusting = True
                try:
                    bar = self.verticalScrollBar()
                    bar.setValue(bar.value() + shift)
                finally:
                    self._adjusting = False

    def _toggle_summary(self, index: QModelIndex) -> None:
        """A condensation marker unfolds to its summary (and folds back), kept in view."""
        if not self._model.toggle_summary(index.row()):
            return
        self._following = False
        self.doItemsLayout()
        self.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        self._update_jump()

    # -- following -----------------------------------------------------------------------------

    def _on_scrolled(self, value: int) -> None:
        if not self._adjusting:
            self._following = value >= self.verticalScrollBar().maximum() - self.FOLLOW_SLACK
        self._update_jump()

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._following:
            self.verticalScrollBar().setValue(maximum)
        self._update_jump()

    def _update_jump(self) -> None:
        show = not self._following
        if show != self._jump.isVisible():
            if show:
                self._jump.place()
            self._jump.setVisible(show)

    @property
    def jump_button(self) -> JumpToLatestButton:
        """The floating "Latest" button (visible while the user has scrolled up)."""
        return self._jump

    # -- keeping heights right ------------------------------------------------------------------

    def _on_reset(self) -> None:
        self._sync_hidden(0, self._model.rowCount() - 1)
        self._following = True
        self._measure_tail()
        self._start_measuring()

    def _measure_tail(self, limit: int | None = None) -> None:
        """Measure the newest rows exactly, about two screens of them, before they show."""
        budget = 2 * max(self.viewport().height(), 400)
        count = self._model.rowCount()
        stop = 0 if limit is None else max(0, count - limit)
        for position in range(count - 1, stop - 1, -1):
            row = self._model.row_at(position)
            if row is None:
                break
            budget -= self._delegate.row_height(row, exact=True)
            if budget <= 0:
                break

    def _start_measuring(self) -> None:
        self._measure_next = self._model.rowCount() - 1
        self._measure_changed = False
        if self._measure_next >= 0:
            self._measure_timer.start()

    def _measure_some(self) -> None:
        deadline = time.perf_counter() + self.MEASURE_SLICE_MS / 1000
        delegate = self._delegate
        position = min(self._measure_next, self._model.rowCount() - 1)
        while position >= 0 and time.perf_counter() < deadline:
            row = self._model.row_at(position)
            position -= 1
            if row is None or not delegate.needs_measuring(row):
                continue
            before = delegate.reserved_height(row)
            if delegate.row_height(row, exact=True) != before:
                self._measure_changed = True
        self._measure_next = position
        done = position < 0
        if done:
            self._measure_timer.stop()
        if self._measure_changed and done:
            self._measure_changed = False
            self.relayout()

    # -- QListView overrides -------------------------------------------------------------------

    def rowsInserted(
        self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int
    ) -> None:
        for position in range(end, max(start, end - self.MEASURE_ON_INSERT + 1) - 1, -1):
            row = self._model.row_at(position)
            if row is not None:
                self._delegate.row_height(row, exact=True)
        super().rowsInserted(parent, start, end)
        self._sync_hidden(start, end)
        if end - start + 1 > self.MEASURE_ON_INSERT and not self._measure_timer.isActive():
            self._start_measuring()

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        roles = list(roles)
        self._sync_hidden(top_left.row(), bottom_right.row())
        if top_left.row() == bottom_right.row():
            row = self._model.row_at(top_left.row())
            if row is not None:
                reserved = self._delegate.reserved_height(row)
                if self._delegate.row_height(row, exact=True) == reserved:
                    # Streamed output usually leaves the height alone (the row shows a
                    # fixed tail): repainting the row is enough, 10,000 rows need no layout.
                    self.viewport().update(self.visualRect(top_left))
                    if set(roles) == {EventRole.OUTPUT}:
                        return
                elif not self._following:
                    # A row above the viewport grew: lay out keeping what the user reads
                    # where it is (the base class would let the content jump).
                    self._relayout_timer.start()
                    return
        super().dataChanged(top_left, bottom_right, roles)

    def _row_width(self) -> int:
        # Rows are laid out as if the scroll bar were showing, so its coming and going (on
        # every reset of a long conversation) never re-wraps 10,000 rows.
        width = self.viewport().width()
        bar = self.verticalScrollBar()
        transient = self.style().styleHint(QStyle.StyleHint.SH_ScrollBar_Transient, None, bar)
        if not bar.isVisible() and not transient:
            width -= self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, bar)
        return width

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._jump.place()
        if self._delegate.set_width(self._row_width()):
            self._measure_tail()
            self._relayout_timer.start()
            self._start_measuring()
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if hasattr(self, "_jump") and event.type() in (
            QEvent.Type.PaletteChange,
            QEvent.Type.FontChange,
            QEvent.Type.StyleChange,
        ):
            self._delegate.configure(self.font(), self.palette())
            self._jump.restyle()
            self._measure_tail()
            self.scheduleDelayedItemsLayout()
            self._start_measuring()
        super().changeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_End and not event.modifiers():
            self.scroll_to_end()
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            current = self.currentIndex()
            foldable = SummaryRow | ThinkingRow | StreamRow
            if current.isValid() and isinstance(self._model.row_at(current.row()), foldable):
                self._toggle_summary(current)
                event.accept()
                return
        if event.matches(QKeySequence.StandardKey.Copy):
            # The base class would copy only the current row's one-line summary.
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)
