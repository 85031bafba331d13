"""What the stream shows before the first message: what Berth does, and the keys."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from gui.main_window.actions import load_icon


class WelcomePage(QWidget):
    """What the stream shows before the first message: what Berth does, and the keys."""

    TEXT_WIDTH = 440

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self._width = self.TEXT_WIDTH
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addStretch(2)
        icon = QLabel(self)
        icon.setPixmap(load_icon("app").pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(icon)
        title = QLabel("Give the agent a task", self)
        title.setObjectName("welcome_title")
        title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        title.setWordWrap(True)
        layout.addWidget(title)
        self._body = QLabel(
            "It works in a Docker container: every command it runs and every file it edits "
            "stays there. Pause it at any moment to look through its files or send a "
            "correction, then resume.",
            self,
        )
        self._body.setObjectName("welcome_body")
        font = self._body.font()
        font.setPointSizeF(font.pointSizeF() + 0.5)
        self._body.setFont(font)
        self._keys = QLabel(
            "Ctrl+Return send  ·  Ctrl+. pause  ·  Ctrl+R resume  ·  Ctrl+Shift+. stop", self
        )
        self._keys.setObjectName("welcome_keys")
        for label in (self._body, self._keys):
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.insertSpacing(layout.count() - 1, 8)
        # Where the next conversation works: its own volume, or a copy of a repository.
        self.repo_label = QLabel(self)
        self.repo_label.setObjectName("welcome_repo_label")
        self.repo_label.setTextFormat(Qt.TextFormat.PlainText)
        self.repo_label.setWordWrap(True)
        self.repo_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.repo_button = QPushButton(
            "Work on a copy of a git repository\N{HORIZONTAL ELLIPSIS}", self
        )
        self.repo_button.setObjectName("welcome_repo")
        self.repo_button.setToolTip(
            "The agent works on a copy in its container; your repository is only written "
            "when you hand the work back as a branch"
        )
        layout.addSpacing(12)
        layout.addWidget(self.repo_label, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.repo_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.set_repository(None)
        layout.addStretch(3)
        self._fit(self.TEXT_WIDTH)

    def set_repository(self, repo: str | None, *, refused: str = "", note: str = "") -> None:
        """The repository the next conversation works on a copy of (None: a volume), or
        why the folder chosen cannot be copied."""
        text = refused or (f"On a copy of {repo}" if repo else "")
        self.repo_label.setText(text + (f"\n{note}" if note and not refused else ""))
        self.repo_label.setStyleSheet("color: #cf222e;" if refused else "")
        self.repo_label.setVisible(bool(text))
        self.repo_button.setText(
            ("Another repository" if repo else "Work on a copy of a git repository")
            + "\N{HORIZONTAL ELLIPSIS}"
        )
        self._fit(self._width)

    def _fit(self, width: int) -> None:
        self._width = width
        # A wrapped label in a centred layout is clipped unless told its width and height.
        for label in (self._body, self._keys, self.repo_label):
            label.setFixedWidth(width)
            label.setFixedHeight(max(0, label.heightForWidth(width)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit(max(120, min(self.TEXT_WIDTH, event.size().width() - 48)))
        super().resizeEvent(event)
