"""A banner above the composer for an LLM failure the user can retry."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class ErrorBanner(QFrame):
    """Says why the model could not be reached and offers Retry; hidden until needed."""

    retry_clicked = Signal()
    settings_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("llm_error_banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Its own colours: the theme does not know this widget, and an error must stand out.
        self.setStyleSheet(
            "#llm_error_banner { background: #fdecea; border: 1px solid #e0a39c;"
            " border-radius: 6px; }"
            " #llm_error_banner QLabel { color: #611a15; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.message_label = QLabel(self)
        self.message_label.setObjectName("llm_error_message")
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message_label, 1)
        # Where the fix is a key, a base URL or a model: Settings, one click away.
        self.settings_button = QPushButton("Open Settings", self)
        self.settings_button.setObjectName("open_settings_button")
        self.settings_button.setToolTip("Fix the model, its base URL or its key; then Resume")
        self.settings_button.clicked.connect(self.settings_clicked)
        layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setObjectName("llm_retry_button")
        self.retry_button.setToolTip("Ask the model again from where the run stopped")
        self.retry_button.clicked.connect(self.retry_clicked)
        layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_error(self, message: str, hint: str = "", *, in_settings: bool = False) -> None:
        self.message_label.setText(f"{message}\n{hint}" if hint else message)
        self.retry_button.setEnabled(True)
        self.retry_button.setText("Resume" if in_settings else "Retry")
        self.settings_button.setVisible(in_settings)
        self.show()

    def text(self) -> str:
        return self.message_label.text()
