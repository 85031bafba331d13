"""The composer: where the user types to the agent, with a hint saying what Send will do.

Ctrl+Return sends (through ``action_send``, so the toolbar, the button and the key do one
thing). The hint under the box says what the session will do with a message sent now
(agent.session.rules.send_outcome: queued for the next step while the agent runs, kept
for Resume while paused, ...); only the words are the window's.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from agent.session.rules import SendOutcome, send_outcome
from agent.status import AgentStatus

_SEND_KEYS = {Qt.Key.Key_Return, Qt.Key.Key_Enter}


# The words for each outcome; which outcome applies is the session's rule.
_HINTS = {
    SendOutcome.HELD_UNTIL_STARTED: (
        "Starting the container… you can type ahead; messages are sent when it is up."
    ),
    SendOutcome.NEXT_STEP: "The agent is working; a message sent now reaches it at its next step.",
    SendOutcome.WAITS_FOR_RESUME: "Paused: messages you send now wait for Resume (Ctrl+R).",
    SendOutcome.WAITS_FOR_APPROVAL: "The agent waits for your approval; Resume approves.",
    SendOutcome.TRIES_AGAIN: "Send a hint or a correction to let the agent try again.",
    SendOutcome.STARTS_A_RUN: "Describe a task for the agent. Ctrl+Return sends.",
}
# While a run is under way, the messages the model has not seen yet are counted.
_COUNTS_QUEUED = {
    SendOutcome.NEXT_STEP,
    SendOutcome.WAITS_FOR_RESUME,
    SendOutcome.WAITS_FOR_APPROVAL,
}


def hint_for(status: AgentStatus, *, starting: bool, queued: int, configured: bool) -> str:
    """One line under the composer saying what happens to a message sent now."""
    if not configured:
        return "No model chosen yet: pick one (and its key) in Settings."
    outcome = send_outcome(status, starting=starting)
    queued_note = ""
    if queued and outcome in _COUNTS_QUEUED:
        noun = "message" if queued == 1 else "messages"
        queued_note = f"{queued} {noun} queued. "
    return queued_note + _HINTS[outcome]


class ComposerEdit(QPlainTextEdit):
    """The text box itself (objectName ``composer``). Ctrl+Return asks to send."""

    submit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.setAccessibleName("Message to the agent")
        self.setPlaceholderText("Ask the agent to do something…")
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Normally the window-wide shortcut of action_send takes Ctrl+Return before the
        # box sees it; this covers focus set-ups where it does not.
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if ctrl and event.key() in _SEND_KEYS:
            self.submit_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class Composer(QFrame):
    """The framed box with the send button and the hint line (objectName composer_frame)."""

    def __init__(
        self,
        send_action: QAction,
        parent: QWidget | None = None,
        *,
        settings_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("composer_frame")
        self._send_action = send_action
        self.editor = ComposerEdit(self)
        self.editor.submit_requested.connect(self._submit)
        self.editor.installEventFilter(self)
        lines = QFontMetrics(self.editor.font()).lineSpacing()
        self.editor.setMinimumHeight(lines * 2 + 12)
        self.editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.error_hint = ""  # a failure's own advice, in place of the general one
        self.hint = QLabel(self)
        self.hint.setObjectName("composer_hint")
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.hint.setWordWrap(True)
        small = self.hint.font()
        small.setPointSizeF(max(small.pointSizeF() - 1, 8))
        self.hint.setFont(small)

        self.send_button = QToolButton(self)
        self.send_button.setObjectName("composer_send")
        self.send_button.setDefaultAction(send_action)
        self.send_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)

        # With no model chosen, the hint's way out is a click away, not an env variable.
        self.settings_button = QToolButton(self)
        self.settings_button.setObjectName("composer_open_settings")
        self.settings_button.setText("Open Settings…")
        self.settings_button.setCursor(Qt.CursorShape.PointingHandCursor)
        if settings_action is not None:
            self.settings_button.clicked.connect(settings_action.trigger)
        self.settings_button.hide()

        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(self.hint, 1)
        row.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(4)
        layout.addWidget(self.editor, 1)
        layout.addLayout(row)
        self.set_hint(AgentStatus.IDLE, starting=False, queued=0, configured=True)

    def text(self) -> str:
        return self.editor.toPlainText()

    def has_text(self) -> bool:
        return bool(self.editor.toPlainText().strip())

    def set_text(self, text: str) -> None:
        """Put back a draft (the one typed for the conversation now shown)."""
        if text != self.editor.toPlainText():
            self.editor.setPlainText(text)

    def take_text(self) -> str:
        """The message, stripped, and an empty box ready for the next one."""
        text = self.editor.toPlainText().strip()
        if text:
            self.editor.clear()
        return text

    def set_hint(
        self, status: AgentStatus, *, starting: bool, queued: int, configured: bool
    ) -> None:
        text = hint_for(status, starting=starting, queued=queued, configured=configured)
        if status is AgentStatus.ERROR and self.error_hint:
            text = self.error_hint  # what the failure asks of the user, said by the error
        self.hint.setText(text)
        self.settings_button.setVisible(not configured)

    def _submit(self) -> None:
        if self._send_action.isEnabled():
            self._send_action.trigger()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The frame draws the focus ring, since the box inside it is frameless.
        if watched is self.editor and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self.setProperty("focused", event.type() == QEvent.Type.FocusIn)
            self.style().unpolish(self)
            self.style().polish(self)
        return super().eventFilter(watched, event)
