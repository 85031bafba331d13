"""FileBrowser: the container's file tree above a viewer, with refresh, upload and download."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.background import Background
from gui.file_browser.content import VIEW_LIMIT, FileContent, classify
from gui.file_browser.formatting import human_size
from gui.file_browser.message_bar import MessageBar
from gui.file_browser.tree_model import NodeKind, RemoteTreeModel
from gui.file_browser.tree_view import FileTreeView
from gui.file_browser.viewer import FileViewer, ViewerMode
from gui.file_browser.workspace_protocol import FileWorkspace

ProgressFn = Callable[[int, int], None]  # bytes (or items) done, total

# Tool results often come in bursts; one listing per burst is plenty.
REFRESH_COALESCE_MS = 150
# A transfer reports thousands of chunks; the bar needs ~20/s.
PROGRESS_INTERVAL_S = 0.05
# A transfer shorter than this never shows a progress bar (no flicker for small files).
PROGRESS_DELAY_MS = 300
# The download rule of sandbox.landing, said where the user chooses to download.
DOWNLOAD_TOOLTIP = (
    "Download the selected file or folder to this computer.\n"
    "A link downloads what it points to in the container, under the link's name;\n"
    "a name already taken in the chosen folder gets a numbered copy, never an overwrite."
)


def _icon(name: str, fallback: QStyle.StandardPixmap) -> QIcon:
    try:
        from icons import icon_path

        icon = QIcon(str(icon_path(name)))
        if not icon.isNull():
            return icon
    except (ImportError, FileNotFoundError):
        pass  # icons/ is drawn elsewhere in the project; the style's icons do meanwhile
    return QApplication.style().standardIcon(fallback)


class FileBrowser(QWidget):
    """The container's files: a lazily listed tree (`file_tree`) and a viewer (`file_viewer`)."""

    file_opened = Signal(str)
    error = Signal(str)
    transfer_finished = Signal(str)  # a sentence saying what was uploaded or downloaded

    def __init__(self, parent: QWidget | None = None, root_path: str = "/workspace") -> None:
        super().__init__(parent)
        self.setObjectName("file_browser")
        self._workspace: FileWorkspace | None = None
        self._jobs = Background(self)  # file reads and transfers; listings live in the model
        self._open_token = 0
        self._opened: tuple[str, int, datetime | None] | None = None
        self._transfers = 0
        self._listing_error_shown = False
        self._last_host_dir = str(Path.home())

        self.model = RemoteTreeModel(root_path, self)
        self.file_tree = FileTreeView(self)
        self.file_tree.setModel(self.model)
        self.file_viewer = FileViewer(self)

        self._build_toolbar()
        self._build_status_rows()
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("file_browser_splitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.file_tree)
        splitter.addWidget(self.file_viewer)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self._toolbar)
        layout.addWidget(self._message)
        layout.addWidget(self._progress_row)
        layout.addWidget(splitter, 1)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_COALESCE_MS)
        self._refresh_timer.timeout.connect(self._refresh_now)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)
        self._progress_timer.timeout.connect(self._progress_row.show)

        self.model.folder_loaded.connect(self._on_folder_loaded)
        self.model.load_failed.connect(self._on_load_failed)
        self.model.upload_requested.connect(self.upload_paths)
        self.file_tree.expanded.connect(self._on_expanded)
        selection = self.file_tree.selectionModel()
        selection.currentChanged.connect(self._on_current_changed)
        self.file_viewer.download_requested.connect(self._choose_download_target)
        self.file_tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.file_tree.customContextMenuRequested.connect(self._show_context_menu)
        self._update_actions()
        self.file_viewer.show_empty("No container", "The container's files appear here.")

    # ---- construction ------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self._toolbar = QWidget(self)
        self._toolbar.setObjectName("file_browser_toolbar")
        row = QHBoxLayout(self._toolbar)
        row.setContentsMargins(6, 4, 4, 0)
        row.setSpacing(2)
        self._root_label = QLabel(self.model.root_path, self._toolbar)
        self._root_label.setObjectName("file_browser_root")
        font = self._root_label.font()
        font.setBold(True)
        self._root_label.setFont(font)
        row.addWidget(self._root_label)
        row.addStretch(1)

        SP = QStyle.StandardPixmap
        self.action_refresh = QAction(_icon("refresh", SP.SP_BrowserReload), "Refresh", self)
        self.action_refresh.setObjectName("action_refresh_files")
        self.action_refresh.setToolTip("Refresh the container's files (F5)")
        self.action_refresh.setShortcut("F5")
        self.action_refresh.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.action_refresh.triggered.connect(self.refresh)

        self.action_upload_files = QAction("Upload files…", self)
        self.action_upload_files.setObjectName("action_upload_files")
        self.action_upload_files.triggered.connect(self._choose_upload_files)
        self.action_upload_folder = QAction("Upload a folder…", self)
        self.action_upload_folder.setObjectName("action_upload_folder")
        self.action_upload_folder.triggered.connect(self._choose_upload_folder)
        self.action_download = QAction(_icon("download", SP.SP_DialogSaveButton), "Download", self)
        self.action_download.setObjectName("action_download")
        self.action_download.setToolTip(DOWNLOAD_TOOLTIP)
        self.action_download.triggered.connect(self._download_selected)

        self.refresh_button = self._tool_button(self.action_refresh, "file_refresh")
        self.upload_button = QToolButton(self._toolbar)
        self.upload_button.setObjectName("file_upload")
        self.upload_button.setIcon(_icon("upload", SP.SP_ArrowUp))
        self.upload_button.setText("Upload")
        self.upload_button.setToolTip(
            "Upload files or a folder from this computer into the selected folder "
            "(or drop them onto the tree)"
        )
        self.upload_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.upload_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.upload_button.setAutoRaise(True)
        menu = QMenu(self.upload_button)
        menu.addAction(self.action_upload_files)
        menu.addAction(self.action_upload_folder)
        self.upload_button.setMenu(menu)
        self.download_button = self._tool_button(self.action_download, "file_download")
        for button in (self.refresh_button, self.upload_button, self.download_button):
            row.addWidget(button)
        self.addAction(self.action_refresh)

    def _show_context_menu(self, position: QPoint) -> None:
        index = self.file_tree.indexAt(position)
        if index.isValid():
            self.file_tree.setCurrentIndex(index.siblingAtColumn(0))
        menu = QMenu(self.file_tree)
        path = self.selected_path() if index.isValid() else None
        if path:
            copy = menu.addAction("Copy path")
            copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(path))
            menu.addAction(self.action_download)
            menu.addSeparator()
        menu.addAction(self.action_upload_files)
        menu.addAction(self.action_upload_folder)
        menu.addSeparator()
        menu.addAction(self.action_refresh)
        menu.popup(self.file_tree.viewport().mapToGlobal(position))

    def _tool_button(self, action: QAction, name: str) -> QToolButton:
        button = QToolButton(self._toolbar)
        button.setObjectName(name)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(True)
        return button

    def _build_status_rows(self) -> None:
        self._message = MessageBar(self)

        self._progress_row = QWidget(self)
        self._progress_row.setObjectName("file_transfer_progress")
        row = QHBoxLayout(self._progress_row)
        row.setContentsMargins(8, 0, 8, 0)
        self._progress_label = QLabel(self._progress_row)
        self._progress_bar = QProgressBar(self._progress_row)
        self._progress_bar.setObjectName("file_transfer_bar")
        self._progress_bar.setTextVisible(False)
        self._progress_bar.setMaximumHeight(8)
        row.addWidget(self._progress_label, 1)
        row.addWidget(self._progress_bar, 1)
        self._progress_row.hide()

    # ---- public API ----------------------------------------------------------------------
    @property
    def workspace(self) -> FileWorkspace | None:
        return self._workspace

    def set_workspace(self, workspace: FileWorkspace | None) -> None:
        """Show another workspace's files (None: no container). Old results are dropped.

        Setting the workspace already shown only refreshes it, keeping what is expanded.
        """
        if workspace is not None and workspace is self._workspace:
            self.refresh()
            return
        self._jobs.forget_all()
        self._refresh_timer.stop()
        self._workspace = workspace
        self._open_token += 1
        self._opened = None
        self._transfers = 0
        self._progress_timer.stop()
        self._progress_row.hide()
        self._message.dismiss()
        self.model.set_workspace(workspace)
        if workspace is None:
            self.file_viewer.show_empty("No container", "The container's files appear here.")
        else:
            self.file_viewer.show_empty()
        self._update_actions()

    def refresh(self) -> None:
        """Re-list the expanded folders soon; calls in a burst share one listing."""
        if self._workspace is not None and not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh_now(self) -> None:
        self._refresh_timer.stop()
        self._refresh_now()

    def selected_path(self) -> str | None:
        index = self.file_tree.currentIndex()
        if not index.isValid():
            return None
        node = self.model.node(index)
        return None if node.kind is NodeKind.PLACEHOLDER else node.path

    def selected_folder(self) -> str:
        """Where an upload goes: the selected folder, the selected file's folder, or the root."""
        index = self.file_tree.currentIndex()
        if not index.isValid():
            return self.model.root_path
        node = self.model.node(index)
        if node.is_dir:
            return node.path
        return posixpath.dirname(node.path) or self.model.root_path

    def open_path(self, path: str) -> None:
        """Select and open an already listed path."""
        index = self.model.index_for_path(path)
        if index.isValid():
            self.file_tree.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def upload_paths(self, host_paths: list[str], container_dir: str) -> None:
        """Copy host files or folders into `container_dir`, with progress for big ones."""
        workspace = self._workspace
        paths = [p for p in host_paths if p]
        if workspace is None or not paths:
            return
        names = ", ".join(os.path.basename(os.path.normpath(p)) for p in paths[:3])
        if len(paths) > 3:
            names += f" and {len(paths) - 3} more"
        what = f"{names} → {container_dir}"

        def work(report: ProgressFn) -> None:
            if len(paths) == 1:
                workspace.upload(paths[0], container_dir, progress=report)
                return
            # Several items: each reports its own bytes, so the bar shows items done.
            count = len(paths)
            for number, host_path in enumerate(paths):

                def item_progress(done: int, total: int, n: int = number) -> None:
                    report(_overall(n, count, done, total), 1000)

                workspace.upload(host_path, container_dir, progress=item_progress)
                report(_overall(number + 1, count, 0, 0), 1000)

        self._start_transfer(
            f"Uploading {what}",
            work,
            lambda _result: self._upload_done(container_dir, f"Uploaded {what}"),
            in_bytes=len(paths) == 1,
        )

    def download_path(self, container_path: str, host_dir: str) -> None:
        """Copy a container file or folder into the host folder `host_dir`."""
        workspace = self._workspace
        if workspace is None:
            return
        name = posixpath.basename(container_path.rstrip("/")) or container_path
        index = self.model.index_for_path(container_path)
        is_link = index.isValid() and self.model.node(index).kind is NodeKind.SYMLINK

        def work(report: ProgressFn) -> Path:
            return workspace.download(container_path, host_dir, progress=report)

        def done(result: object) -> None:
            saved = Path(str(result))
            sentence = f"Downloaded {name} to {saved}"
            if is_link:
                sentence += " (a link: what it points to in the container, under its name)"
            if saved.name != name:
                sentence += f". {name} was already there, so this is a numbered copy"
            self._transfer_done(sentence + ".")

        self._start_transfer(f"Downloading {name} → {host_dir}", work, done)

    def is_busy(self) -> bool:
        """True while any listing, read or transfer is in flight (tests wait on this)."""
        return (
            self.model.is_loading()
            or self._jobs.pending_count() > 0
            or self._refresh_timer.isActive()
        )

    def message_text(self) -> str:
        return self._message.text()

    # ---- opening files -----------------------------------------------------------------
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_actions()
        if not current.isValid():
            return
        node = self.model.node(current)
        if node.kind is NodeKind.PLACEHOLDER or node.is_dir:
            return
        self._open(node.path, node.size, node.mtime)

    def _open(self, path: str, size: int, mtime: datetime | None, quiet: bool = False) -> None:
        workspace = self._workspace
        if workspace is None:
            return
        self._open_token += 1
        token = self._open_token
        self._opened = (path, size, mtime)
        if size > VIEW_LIMIT:
            self.file_viewer.show_too_big(path, size)
            self.file_opened.emit(path)
            return
        if not quiet:
            self.file_viewer.show_loading(path, size)
        scroll = self.file_viewer.text_view.verticalScrollBar().value() if quiet else 0

        def read() -> FileContent | int:
            from sandbox import FileTooLargeError

            # The tree's size is a link's own: the sandbox checks what the link names, before
            # reading a byte of it (the int is that size).
            try:
                return classify(path, workspace.read_bytes(path, limit=VIEW_LIMIT))
            except FileTooLargeError as exc:
                return exc.size

        def shown(content: FileContent | int) -> None:
            if token != self._open_token:
                return  # the user has moved on to another file
            if isinstance(content, int):
                self.file_viewer.show_too_big(path, content)
            else:
                self.file_viewer.show_content(content)
            if quiet:
                self.file_viewer.text_view.verticalScrollBar().setValue(scroll)
            self.file_opened.emit(path)

        def failed(message: str) -> None:
            if token == self._open_token:
                self.file_viewer.show_error(path, message)
                self._show_error(f"Could not open {path}: {message}")

        self._jobs.run(read, shown, failed, name="file-read")

    # ---- refresh -----------------------------------------------------------------------
    def _refresh_now(self) -> None:
        if self._workspace is not None:
            self.model.reload_loaded(self.file_tree.isExpanded)

    def _on_folder_loaded(self, path: str) -> None:
        if path == self.model.root_path and self._listing_error_shown:
            # The container answers again: a listing error is resolved; others stay.
            self._listing_error_shown = False
            if self._message.kind == "error":
                self._message.dismiss()
        if self._opened is None:
            return
        opened_path, size, mtime = self._opened
        if posixpath.dirname(opened_path) != path:
            return
        index = self.model.index_for_path(opened_path)
        if not index.isValid():
            self._opened = None
            self.file_viewer.show_empty(
                "File no longer exists", f"{opened_path} was removed from the container."
            )
            return
        node = self.model.node(index)
        if (node.size, node.mtime) != (size, mtime):
            # The agent changed the open file: show the new content where the user was.
            self._open(node.path, node.size, node.mtime, quiet=True)

    def _on_expanded(self, index: QModelIndex) -> None:
        # A view that is not on screen yet never asks to fetch: list the folder regardless.
        if self.model.canFetchMore(index):
            self.model.fetchMore(index)
        else:
            self.model.reload_if_stale(index)

    def _on_load_failed(self, path: str, message: str) -> None:
        self._show_error(f"Could not list {path}: {message}")
        self._listing_error_shown = True

    # ---- transfers ---------------------------------------------------------------------
    def _start_transfer(
        self,
        label: str,
        work: Callable[[ProgressFn], object],
        on_done: Callable[[object], None],
        in_bytes: bool = True,
    ) -> None:
        self._transfers += 1
        self._progress_label.setText(label + "…")
        self._progress_bar.setRange(0, 0)  # busy until the first figure arrives
        self._progress_timer.start()

        def progress(done: int, total: int) -> None:
            if total <= 0:
                return
            # Thousandths: QProgressBar counts in 32-bit ints, transfers may pass 2 GB.
            self._progress_bar.setRange(0, 1000)
            self._progress_bar.setValue(min(1000, done * 1000 // total))
            figures = (
                f"{human_size(done)} of {human_size(total)}"
                if in_bytes
                else f"{min(100, done * 100 // total)} %"
            )
            self._progress_label.setText(f"{label} · {figures}")

        def failed(message: str) -> None:
            self._transfer_ended()
            self._show_error(f"{label} failed: {message}")

        def done(result: object) -> None:
            self._transfer_ended()
            on_done(result)

        self._jobs.run(
            work,
            done,
            failed,
            on_progress=progress,
            progress_interval=PROGRESS_INTERVAL_S,
            name="file-transfer",
        )

    def _transfer_ended(self) -> None:
        self._transfers = max(0, self._transfers - 1)
        if self._transfers == 0:
            self._progress_timer.stop()
            self._progress_row.hide()

    def _upload_done(self, container_dir: str, sentence: str) -> None:
        index = self.model.index_for_path(container_dir)
        if container_dir == self.model.root_path or index.isValid():
            self.model.reload(index)
            if index.isValid():
                self.file_tree.expand(index)
        self._transfer_done(sentence)

    def _transfer_done(self, sentence: str) -> None:
        self._show_info(sentence)
        self.transfer_finished.emit(sentence)

    def _choose_upload_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, f"Upload files to {self.selected_folder()}", self._last_host_dir
        )
        if paths:
            self._last_host_dir = os.path.dirname(paths[0])
            self.upload_paths(paths, self.selected_folder())

    def _choose_upload_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, f"Upload a folder to {self.selected_folder()}", self._last_host_dir
        )
        if folder:
            self._last_host_dir = os.path.dirname(os.path.normpath(folder))
            self.upload_paths([folder], self.selected_folder())

    def _download_selected(self) -> None:
        path = self.selected_path()
        if path:
            self._choose_download_target(path)

    def _choose_download_target(self, container_path: str) -> None:
        folder = QFileDialog.getExistingDirectory(
            self,
            f"Download {posixpath.basename(container_path)} to…",
            self._last_host_dir,
        )
        if folder:
            self._last_host_dir = folder
            self.download_path(container_path, folder)

    # ---- messages ----------------------------------------------------------------------
    def _show_error(self, message: str) -> None:
        self._listing_error_shown = False
        self._message.show_error(message)
        self.error.emit(message)

    def _show_info(self, message: str) -> None:
        self._message.show_info(message)

    def _update_actions(self) -> None:
        has_workspace = self._workspace is not None
        self.action_refresh.setEnabled(has_workspace)
        self.upload_button.setEnabled(has_workspace)
        self.action_upload_files.setEnabled(has_workspace)
        self.action_upload_folder.setEnabled(has_workspace)
        self.action_download.setEnabled(has_workspace and self.selected_path() is not None)


def _overall(number: int, count: int, done: int, total: int) -> int:
    """Progress of item `number` of `count`, itself `done` of `total`, in thousandths."""
    fraction = (done / total) if total > 0 else 0.0
    return int(1000 * (number + min(1.0, fraction)) / max(1, count))


__all__ = ["FileBrowser", "ViewerMode"]
