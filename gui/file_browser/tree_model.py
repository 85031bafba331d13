"""A lazily loaded model of the container's folders.

A folder's children are listed only when the view asks for them (fetchMore on expand). The
listing runs on the file pool; until it lands the folder shows one "Loading…" row. A reload
merges the new listing into the existing rows, so rows that survive keep their identity, and
with it the view's expansion and selection.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from enum import Enum, StrEnum
from typing import NamedTuple

from PySide6.QtCore import (
    QAbstractItemModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from gui.background import Background
from gui.file_browser.formatting import human_size
from gui.file_browser.workspace_protocol import EntryLike, FileWorkspace

AnyIndex = QModelIndex | QPersistentModelIndex

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
SIZE_ROLE = Qt.ItemDataRole.UserRole + 3


class Column(int, Enum):
    NAME = 0
    SIZE = 1
    MODIFIED = 2


_HEADERS = {Column.NAME: "Name", Column.SIZE: "Size", Column.MODIFIED: "Modified"}


class NodeKind(StrEnum):
    DIR = "dir"
    FILE = "file"
    SYMLINK = "symlink"
    OTHER = "other"
    PLACEHOLDER = "placeholder"  # the "Loading…" or error row of a folder being listed


class Node:
    __slots__ = (
        "children",
        "error",
        "kind",
        "loading",
        "mtime",
        "name",
        "parent",
        "path",
        "reload_again",
        "size",
        "stale",
    )

    def __init__(
        self,
        name: str,
        path: str,
        kind: NodeKind,
        parent: Node | None,
        size: int = 0,
        mtime: datetime | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.kind = kind
        self.parent = parent
        self.size = size
        self.mtime = mtime
        # None until listed; a folder being listed for the first time holds one placeholder.
        self.children: list[Node] | None = None
        self.loading = False
        self.reload_again = False  # a refresh arrived while a listing was in flight
        self.stale = False  # listed once, but a refresh passed while it was collapsed
        self.error: str | None = None

    @property
    def is_dir(self) -> bool:
        return self.kind is NodeKind.DIR

    def row(self) -> int:
        if self.parent is None or self.parent.children is None:
            return 0
        return self.parent.children.index(self)

    def sort_key(self) -> tuple[int, str, str]:
        return (0 if self.is_dir else 1, self.name.casefold(), self.name)


class Row(NamedTuple):
    """One listed entry, sorted and typed on the pool thread so the GUI thread only merges."""

    name: str
    path: str
    kind: NodeKind
    size: int
    mtime: datetime | None


def _kind_of(entry: EntryLike) -> NodeKind:
    try:
        return NodeKind(entry.kind)
    except ValueError:
        return NodeKind.OTHER


def sorted_rows(entries: Sequence[EntryLike]) -> list[Row]:
    """Folders first, then files; each by name, case-insensitively."""
    rows = [Row(e.name, e.path, _kind_of(e), e.size, e.mtime) for e in entries]
    rows.sort(key=lambda r: (0 if r.kind is NodeKind.DIR else 1, r.name.casefold(), r.name))
    return rows


class RemoteTreeModel(QAbstractItemModel):
    """Folders and files under `root_path` in a workspace, listed on demand off the GUI thread."""

    # A folder finished loading (or reloading); tests and the browser wait on it.
    folder_loaded = Signal(str)
    load_failed = Signal(str, str)  # path, message
    # Host paths dropped onto the tree, and the container folder they should go to.
    upload_requested = Signal(list, str)

    def __init__(self, root_path: str = "/workspace", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root_path = root_path
        self._workspace: FileWorkspace | None = None
        self._runner = Background(self)
        self._root = self._new_root()
        self._icons: dict[str, QIcon] = {}

    # ---- workspace -------------------------------------------------------------------
    @property
    def root_path(self) -> str:
        return self._root_path

    @property
    def workspace(self) -> FileWorkspace | None:
        return self._workspace

    def set_workspace(self, workspace: FileWorkspace | None) -> None:
        """Show another workspace; anything still loading for the old one is dropped."""
        self._runner.forget_all()
        self.beginResetModel()
        self._workspace = workspace
        self._root = self._new_root()
        self.endResetModel()
        if workspace is not None:
            self._load(self._root)

    def _new_root(self) -> Node:
        return Node(posixpath.basename(self._root_path) or "/", self._root_path, NodeKind.DIR, None)

    # ---- loading ---------------------------------------------------------------------
    def is_loading(self) -> bool:
        return self._runner.pending_count() > 0

    def reload(self, index: AnyIndex = QModelIndex()) -> None:  # noqa: B008 - Qt idiom
        node = self.node(index)
        if node.is_dir and self._workspace is not None:
            self._load(node)

    def reload_loaded(self, is_expanded: Callable[[QModelIndex], bool]) -> None:
        """Re-list the root and every listed folder the view shows expanded.

        Listed folders that are collapsed are only marked stale: they are re-listed when
        next expanded, which keeps a refresh as cheap as what is on screen.
        """
        if self._workspace is None:
            return
        for node in list(self._iter_listed(self._root)):
            if node is self._root or is_expanded(self._index_of(node)):
                self._load(node)
            else:
                node.stale = True

    def reload_if_stale(self, index: AnyIndex) -> None:
        """On expand: re-list a folder a refresh skipped, or one whose listing failed."""
        node = self.node(index)
        if node.stale or node.error is not None:
            self._load(node)

    def _iter_listed(self, node: Node) -> Iterator[Node]:
        """Folders listed (or tried: a failed one is retried) so far, depth first."""
        if node.is_dir and node.children is not None:
            yield node
            if not node.error:
                for child in node.children:
                    yield from self._iter_listed(child)

    def _load(self, node: Node) -> None:
        workspace = self._workspace
        if workspace is None:
            return
        if node.loading:
            node.reload_again = True
            return
        node.loading = True
        node.stale = False
        if node.children is None or node.error is not None:
            self._show_placeholder(node, "Loading…", None)
        path = node.path
        self._runner.run(
            lambda: sorted_rows(workspace.list_dir(path)),
            lambda rows: self._on_listed(node, rows),
            lambda message: self._on_list_failed(node, message),
            name="file-listing",
        )

    def _still_attached(self, node: Node) -> bool:
        while node.parent is not None:
            siblings = node.parent.children
            if siblings is None or not any(c is node for c in siblings):
                return False
            node = node.parent
        return node is self._root

    def _on_listed(self, node: Node, rows: list[Row]) -> None:
        node.loading = False
        if not self._still_attached(node):
            return  # the folder vanished in a reload of its parent while it was listed
        node.error = None
        if node.children is not None and any(c.kind is NodeKind.PLACEHOLDER for c in node.children):
            self._set_children(node, [])
        self._merge(node, rows)
        self.folder_loaded.emit(node.path)
        if node.reload_again:
            node.reload_again = False
            self._load(node)

    def _on_list_failed(self, node: Node, message: str) -> None:
        node.loading = False
        node.reload_again = False
        if not self._still_attached(node):
            return
        if node.children is None or any(c.kind is NodeKind.PLACEHOLDER for c in node.children):
            node.error = message
            self._show_placeholder(node, "Could not list this folder", message)
        self.load_failed.emit(node.path, message)

    def _show_placeholder(self, node: Node, text: str, error: str | None) -> None:
        placeholder = Node(text, node.path, NodeKind.PLACEHOLDER, node)
        placeholder.error = error
        self._set_children(node, [placeholder])

    def _set_children(self, node: Node, children: list[Node]) -> None:
        parent_index = self._index_of(node)
        if node.children:
            self.beginRemoveRows(parent_index, 0, len(node.children) - 1)
            node.children = []
            self.endRemoveRows()
        elif node.children is None:
            node.children = []
        if children:
            self.beginInsertRows(parent_index, 0, len(children) - 1)
            node.children = children
            self.endInsertRows()

    def _merge(self, node: Node, rows: list[Row]) -> None:
        """Bring node.children in line with `rows` (sorted), keeping surviving nodes."""
        assert node.children is not None
        parent_index = self._index_of(node)
        children = node.children
        if not children:
            # A first listing: one insertion for the lot, not one per row.
            if rows:
                self.beginInsertRows(parent_index, 0, len(rows) - 1)
                node.children = [Node(r.name, r.path, r.kind, node, r.size, r.mtime) for r in rows]
                self.endInsertRows()
            return
        if len(children) == len(rows) and all(
            c.name == r.name and c.kind is r.kind for c, r in zip(children, rows, strict=True)
        ):
            self._update_details(node, parent_index, rows)  # the common refresh: same names
            return
        wanted = {(r.name, r.kind) for r in rows}
        # Remove rows that are gone (bottom up, in contiguous runs).
        row = len(children) - 1
        while row >= 0:
            if (children[row].name, children[row].kind) in wanted:
                row -= 1
                continue
            end = row
            while row - 1 >= 0 and (children[row - 1].name, children[row - 1].kind) not in wanted:
                row -= 1
            self.beginRemoveRows(parent_index, row, end)
            del children[row : end + 1]
            self.endRemoveRows()
            row -= 1
        # Survivors are a subsequence of `rows` in the same order: walk and insert the gaps.
        for position, entry in enumerate(rows):
            existing = children[position] if position < len(children) else None
            if existing is not None and existing.name == entry.name and existing.kind is entry.kind:
                continue
            child = Node(entry.name, entry.path, entry.kind, node, entry.size, entry.mtime)
            self.beginInsertRows(parent_index, position, position)
            children.insert(position, child)
            self.endInsertRows()
        self._update_details(node, parent_index, rows)

    def _update_details(self, node: Node, parent_index: QModelIndex, rows: list[Row]) -> None:
        """Copy sizes and times over; one dataChanged spans the rows that changed."""
        assert node.children is not None
        first = last = -1
        for position, (child, entry) in enumerate(zip(node.children, rows, strict=True)):
            if child.size != entry.size or child.mtime != entry.mtime:
                child.size = entry.size
                child.mtime = entry.mtime
                first = position if first < 0 else first
                last = position
        if first >= 0:
            self.dataChanged.emit(
                self.index(first, Column.SIZE, parent_index),
                self.index(last, Column.MODIFIED, parent_index),
            )

    # ---- lookup ----------------------------------------------------------------------
    def node(self, index: AnyIndex) -> Node:
        if index.isValid():
            node = index.internalPointer()
            assert isinstance(node, Node)
            return node
        return self._root

    def _index_of(self, node: Node, column: int = 0) -> QModelIndex:
        if node is self._root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row(), column, node)

    def index_for_path(self, path: str) -> QModelIndex:
        """The index of an already listed path, or an invalid index."""
        path = path.rstrip("/") or "/"
        if path == self._root_path:
            return QModelIndex()
        node = self._root
        relative = posixpath.relpath(path, self._root_path)
        if relative.startswith(".."):
            return QModelIndex()
        for part in relative.split("/"):
            match = next((c for c in node.children or [] if c.name == part), None)
            if match is None or match.kind is NodeKind.PLACEHOLDER:
                return QModelIndex()
            node = match
        return self._index_of(node)

    def path(self, index: AnyIndex) -> str:
        return self.node(index).path

    # ---- QAbstractItemModel ----------------------------------------------------------
    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self.node(parent)
        if node.children is None or not (0 <= row < len(node.children)):
            return QModelIndex()
        if not (0 <= column < len(Column)):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node = self.node(index)
        if node.parent is None or node.parent is self._root:
            return QModelIndex()
        return self._index_of(node.parent)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        node = self.node(parent)
        return len(node.children) if node.children else 0

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return len(Column)

    def hasChildren(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        node = self.node(parent)
        if not node.is_dir:
            return False
        # An unlisted folder may hold anything: show the expander and list it on demand.
        return node.children is None or len(node.children) > 0

    def canFetchMore(self, parent: AnyIndex) -> bool:
        node = self.node(parent)
        return (
            self._workspace is not None
            and node.is_dir
            and node.children is None
            and not node.loading
        )

    def fetchMore(self, parent: AnyIndex) -> None:
        node = self.node(parent)
        if node.is_dir and node.children is None:
            self._load(node)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS[Column(section)]
        if (
            orientation is Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.TextAlignmentRole
            and section == Column.SIZE
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        node = self.node(index)
        if node.kind is NodeKind.PLACEHOLDER:
            return Qt.ItemFlag.ItemNeverHasChildren
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if node.is_dir:
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        else:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        node = self.node(index)
        column = Column(index.column())
        if role == PATH_ROLE:
            return node.path
        if role == KIND_ROLE:
            return node.kind.value
        if role == SIZE_ROLE:
            return node.size
        if node.kind is NodeKind.PLACEHOLDER:
            return self._placeholder_data(node, column, role)
        if role == Qt.ItemDataRole.DisplayRole:
            if column is Column.NAME:
                return node.name
            if column is Column.SIZE:
                return "" if node.is_dir else human_size(node.size)
            if column is Column.MODIFIED:
                return node.mtime.astimezone().strftime("%Y-%m-%d %H:%M") if node.mtime else ""
        if role == Qt.ItemDataRole.DecorationRole and column is Column.NAME:
            return self._icon("folder" if node.is_dir else "file")
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.NAME:
            if node.is_dir:
                return node.path
            return f"{node.path}\n{human_size(node.size)}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column is Column.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column is not Column.NAME:
            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == Qt.ItemDataRole.FontRole and node.kind is NodeKind.SYMLINK:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def _placeholder_data(self, node: Node, column: Column, role: int) -> object:
        if column is not Column.NAME:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return node.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return node.error or node.name
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole:
            if node.error:
                return QColor("#c0392b")
            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        return None

    def _icon(self, name: str) -> QIcon:
        icon = self._icons.get(name)
        if icon is None:
            icon = _load_icon(name)
            self._icons[name] = icon
        return icon

    # ---- drops from the host -----------------------------------------------------------
    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def canDropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: AnyIndex,
    ) -> bool:
        return (
            self._workspace is not None
            and data.hasUrls()
            and any(url.isLocalFile() for url in data.urls())
        )

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: AnyIndex,
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        node = self.node(parent)
        # Dropped onto a file: it goes into the folder holding that file.
        while not node.is_dir and node.parent is not None:
            node = node.parent
        paths = [url.toLocalFile() for url in data.urls() if url.isLocalFile()]
        self.upload_requested.emit(paths, node.path)
        # Nothing is moved into the model here: the upload reloads the folder when done.
        return False


def _with_selected_tint(icon: QIcon) -> QIcon:
    """Draw the icon in the selection's text colour on selected rows: grey on blue is lost."""
    colour = QApplication.palette().color(QPalette.ColorRole.HighlightedText)
    tinted = QIcon()
    for size in (16, 20, 24, 32, 48, 64):
        normal = icon.pixmap(QSize(size, size))
        tinted.addPixmap(normal, QIcon.Mode.Normal)
        selected = QPixmap(normal)
        painter = QPainter(selected)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        painter.fillRect(selected.rect(), colour)
        painter.end()
        tinted.addPixmap(selected, QIcon.Mode.Selected)
    return tinted


def _load_icon(name: str) -> QIcon:
    try:
        from icons import icon_path

        icon = QIcon(str(icon_path(name)))
        if not icon.isNull():
            return _with_selected_tint(icon)
    except (ImportError, FileNotFoundError):
        pass  # icons are drawn by another part of the project; the style's are fine meanwhile
    pixmap = (
        QStyle.StandardPixmap.SP_DirIcon if name == "folder" else QStyle.StandardPixmap.SP_FileIcon
    )
    return QApplication.style().standardIcon(pixmap)
