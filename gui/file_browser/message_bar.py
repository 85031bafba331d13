"""The browser's inline message: an error that stays until dismissed, or a passing note."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

INFO_TIMEOUT_MS = 5000

_STYLES = {
    "error": (
        "QFrame#file_browser_message_bar { background: rgba(192, 57, 43, 0.12);"
        " border: 1px solid rgba(192, 57, 43, 0.55); border-radius: 4px; }"
    ),
    "info": (
        "QFrame#file_browser_message_bar { background: rgba(46, 134, 222, 0.10);"
        " border: 1px solid rgba(46, 134, 222, 0.45); border-radius: 4px; }"
    ),
}


class MessageBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("file_browser_message_bar")
        self._kind = ""
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.setSpacing(6)
        self.icon = QLabel(self)
        self.label = QLabel(self)
        self.label.setObjectName("file_browser_message")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("file_browser_message_close")
        self.close_button.setAutoRaise(True)
        self.close_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton)
        )
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.dismiss)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.label, 1)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(INFO_TIMEOUT_MS)
        self._timer.timeout.connect(self._expire)
        self.hide()

    @property
    def kind(self) -> str:
        """ "error", "info", or "" when nothing is shown."""
        return self._kind if not self.isHidden() else ""

    def text(self) -> str:
        return self.label.text() if not self.isHidden() else ""

    def show_error(self, message: str) -> None:
        self._timer.stop()
        self._show("error", message, QStyle.StandardPixmap.SP_MessageBoxWarning)

    def show_info(self, message: str) -> None:
        if self.kind == "error":
            return  # an error stays until the user dismisses it or it is resolved
        self._show("info", message, QStyle.StandardPixmap.SP_MessageBoxInformation)
        self._timer.start()

    def dismiss(self) -> None:
        self._timer.stop()
        self._kind = ""
        self.hide()

    def _show(self, kind: str, message: str, icon: QStyle.StandardPixmap) -> None:
        self._kind = kind
        self.setStyleSheet(_STYLES[kind])
        size = self.fontMetrics().height()
        self.icon.setPixmap(self.style().standardIcon(icon).pixmap(size, size))
        self.label.setText(message)
        self.label.setToolTip(message)
        self.show()

    def _expire(self) -> None:
        if self._kind == "info":
            self.dismiss()
