"""The file viewer: text with highlighting, images, or a clear note about what it cannot show."""

from __future__ import annotations

import posixpath
from enum import StrEnum

from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QFont, QImage, QPalette, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from gui.file_browser.code_view import CodeView
from gui.file_browser.content import VIEW_LIMIT, ContentKind, FileContent
from gui.file_browser.formatting import human_size
from gui.file_browser.highlighter import CodeHighlighter, language_for

# Highlighting runs on the GUI thread, line by line; past this size plain text keeps it snappy.
HIGHLIGHT_LIMIT = 256 * 1024


class ViewerMode(StrEnum):
    EMPTY = "empty"
    LOADING = "loading"
    TEXT = "text"
    IMAGE = "image"
    BINARY = "binary"
    TOO_BIG = "too_big"
    ERROR = "error"


_MESSAGE_ICONS = {
    ViewerMode.EMPTY: QStyle.StandardPixmap.SP_FileDialogContentsView,
    ViewerMode.BINARY: QStyle.StandardPixmap.SP_FileIcon,
    ViewerMode.TOO_BIG: QStyle.StandardPixmap.SP_MessageBoxInformation,
    ViewerMode.ERROR: QStyle.StandardPixmap.SP_MessageBoxWarning,
}


class _MessagePage(QWidget):
    """A centred title, a line of detail and an optional action button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.icon = QLabel(self)
        self.icon.setObjectName("file_viewer_message_icon")
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.icon)
        layout.addSpacing(6)
        self.title = QLabel(self)
        self.title.setObjectName("file_viewer_message_title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.title.setWordWrap(True)
        self.detail = QLabel(self)
        self.detail.setObjectName("file_viewer_message_detail")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setForegroundRole(self.detail.foregroundRole())
        self.button = QPushButton(self)
        self.button.setObjectName("file_viewer_action")
        self.button.hide()
        button_row = QHBoxLayout()
        button_row.addStretch(1)
        button_row.addWidget(self.button)
        button_row.addStretch(1)
        layout.addWidget(self.title)
        layout.addSpacing(4)
        layout.addWidget(self.detail)
        layout.addSpacing(10)
        layout.addLayout(button_row)
        layout.addStretch(2)
        layout.setContentsMargins(24, 24, 24, 24)


class _ImagePage(QScrollArea):
    """Shows an image at its size, or scaled down to fit; never scaled up past 100 %."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWidgetResizable(True)
        self.label = QLabel(self)
        self.label.setObjectName("file_viewer_image")
        self.label.setAccessibleName("Image preview")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setWidget(self.label)
        self._image: QImage | None = None

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._rescale()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is None or self._image.isNull():
            self.label.clear()
            return
        room = self.viewport().size().shrunkBy(_margins(16))
        pixmap = QPixmap.fromImage(self._image)
        if pixmap.width() > room.width() or pixmap.height() > room.height():
            pixmap = pixmap.scaled(
                room,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.label.setPixmap(pixmap)


def _margins(pixels: int) -> QMargins:
    return QMargins(pixels, pixels, pixels, pixels)


class FileViewer(QFrame):
    """Read-only view of one container file. objectName "file_viewer"."""

    download_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("file_viewer")
        self.setAccessibleName("File viewer")
        self.setFrameShape(QFrame.Shape.StyledPanel)  # framed like the tree above it
        self._path = ""
        self._mode = ViewerMode.EMPTY
        self._highlighter: CodeHighlighter | None = None

        self._header = QWidget(self)
        self._header.setObjectName("file_viewer_header")
        header_layout = QHBoxLayout(self._header)
        header_layout.setContentsMargins(10, 6, 10, 6)
        self._path_label = QLabel(self._header)
        self._path_label.setObjectName("file_viewer_path")
        path_font = QFont(self._path_label.font())
        path_font.setBold(True)
        self._path_label.setFont(path_font)
        self._path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._path_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._meta_label = QLabel(self._header)
        self._meta_label.setObjectName("file_viewer_meta")
        self._meta_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        header_layout.addWidget(self._path_label, 1)
        header_layout.addWidget(self._meta_label, 0)

        self._stack = QStackedWidget(self)
        self._message = _MessagePage(self._stack)
        self._message.button.clicked.connect(self._on_action)
        self.text_view = CodeView(self._stack)
        self.text_view.setObjectName("file_viewer_text")
        self.text_view.setAccessibleName("File contents")
        self._image_page = _ImagePage(self._stack)
        for page in (self._message, self.text_view, self._image_page):
            self._stack.addWidget(page)

        # A hairline in the palette's mid tone, as the tree's own frame is drawn.
        separator = QWidget(self)
        separator.setObjectName("file_viewer_separator")
        separator.setFixedHeight(1)
        separator.setAutoFillBackground(True)
        separator.setBackgroundRole(QPalette.ColorRole.Mid)
        layout = QVBoxLayout(self)
        width = self.frameWidth()
        layout.setContentsMargins(width, width, width, width)
        layout.setSpacing(0)
        layout.addWidget(self._header)
        layout.addWidget(separator)
        layout.addWidget(self._stack, 1)
        self._apply_muted_colours()
        self.show_empty()

    # ---- state -------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self._path

    @property
    def mode(self) -> ViewerMode:
        return self._mode

    @property
    def highlighter(self) -> CodeHighlighter | None:
        return self._highlighter

    @property
    def image_label(self) -> QLabel:
        return self._image_page.label

    def message_text(self) -> str:
        """What the message page says (title and detail): for tests and screen readers."""
        return f"{self._message.title.text()}\n{self._message.detail.text()}"

    def meta_text(self) -> str:
        return self._meta_label.text()

    # ---- pages -------------------------------------------------------------------------
    def show_empty(self, title: str = "No file selected", detail: str = "") -> None:
        self._set_header("", "")
        self._show_message(
            ViewerMode.EMPTY,
            title,
            detail or "Pick a file in the tree to see its contents.",
        )

    def show_loading(self, path: str, size: int | None = None) -> None:
        self._set_header(path, human_size(size) if size is not None else "")
        self._show_message(ViewerMode.LOADING, "Loading…", posixpath.basename(path))

    def show_too_big(self, path: str, size: int) -> None:
        self._set_header(path, human_size(size))
        self._show_message(
            ViewerMode.TOO_BIG,
            "This file is too big to preview",
            f"{posixpath.basename(path)} is {human_size(size)}; the viewer opens files up to "
            f"{human_size(VIEW_LIMIT)}. Download it to open it on this computer.",
            button="Download…",
        )

    def show_error(self, path: str, message: str) -> None:
        self._set_header(path, "")
        self._show_message(ViewerMode.ERROR, "Could not open this file", message)

    def show_content(self, content: FileContent) -> None:
        if content.kind is ContentKind.TEXT:
            self._show_text(content)
        elif content.kind is ContentKind.IMAGE:
            self._set_header(content.path, f"{content.description} · {human_size(content.size)}")
            self._release_text()
            self._image_page.set_image(content.image)
            self._mode = ViewerMode.IMAGE
            self._stack.setCurrentWidget(self._image_page)
        else:
            self._set_header(content.path, human_size(content.size))
            self._show_message(
                ViewerMode.BINARY,
                "Binary file",
                f"{content.description} · {human_size(content.size)} "
                f"({content.size:,} bytes). The viewer shows text and images only.",
                button="Download…",
            )

    def _show_text(self, content: FileContent) -> None:
        self._set_header(content.path, f"{content.description} · {human_size(content.size)}")
        self._release_text()
        language = None
        if content.size <= HIGHLIGHT_LIMIT:
            language = language_for(content.path, content.text[:200].split("\n", 1)[0])
        document = self.text_view.document()
        # Attach first: highlighting then happens once, as the text goes in.
        if language is not None:
            self._highlighter = CodeHighlighter(document, language, self.text_view.palette())
        self.text_view.setPlainText(content.text)
        self._mode = ViewerMode.TEXT
        self._stack.setCurrentWidget(self.text_view)

    def _release_text(self) -> None:
        if self._highlighter is not None:
            self._highlighter.setDocument(None)
            self._highlighter.deleteLater()
            self._highlighter = None
        if not self.text_view.document().isEmpty():  # clearing an empty one costs ~5 ms
            self.text_view.clear()
        self._image_page.set_image(None)

    def _show_message(self, mode: ViewerMode, title: str, detail: str, button: str = "") -> None:
        self._release_text()
        self._mode = mode
        pixmap = _MESSAGE_ICONS.get(mode)
        if pixmap is None:
            self._message.icon.clear()
            self._message.icon.hide()
        else:
            self._message.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(40, 40))
            self._message.icon.show()
        self._message.title.setText(title)
        self._message.detail.setText(detail)
        self._message.button.setText(button)
        self._message.button.setVisible(bool(button))
        self._stack.setCurrentWidget(self._message)

    def _set_header(self, path: str, meta: str) -> None:
        self._path = path
        self._path_label.setText(path or " ")
        self._path_label.setToolTip(path)
        self._meta_label.setText(meta)

    def _on_action(self) -> None:
        if self._path:
            self.download_requested.emit(self._path)

    def _apply_muted_colours(self) -> None:

        for label in (self._meta_label, self._message.detail):
            palette = label.palette()
            palette.setColor(
                QPalette.ColorRole.WindowText,
                palette.color(QPalette.ColorRole.PlaceholderText),
            )
            label.setPalette(palette)
