"""The tree view of the container's files: drops from the host, tidy columns."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from gui.file_browser.tree_model import Column


class FileTreeView(QTreeView):
    """objectName "file_tree". Accepts host files dropped onto a folder (or empty space)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("file_tree")
        self.setAccessibleName("Container files")
        self.setUniformRowHeights(True)
        self.setAnimated(True)
        self.setAlternatingRowColors(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setIndentation(16)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(Column.SIZE, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(Column.MODIFIED, QHeaderView.ResizeMode.Fixed)
        metrics = self.fontMetrics()
        header.resizeSection(Column.SIZE, metrics.horizontalAdvance("000.0 MB") + 24)
        header.resizeSection(Column.MODIFIED, metrics.horizontalAdvance("0000-00-00 00:00") + 24)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    # Host files arrive as a copy, whatever modifier the user holds.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        super().dragMoveEvent(event)
        if event.mimeData().hasUrls():
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        model = self.model()
        if model is None or not event.mimeData().hasUrls():
            event.ignore()
            return
        index = self.indexAt(event.position().toPoint())
        model.dropMimeData(
            event.mimeData(), Qt.DropAction.CopyAction, -1, -1, index.siblingAtColumn(0)
        )
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
