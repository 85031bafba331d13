"""Tell the user the agent needs them while they look at another window."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from agent.status import AgentStatus

ALERT_MS = 0  # until the window is activated

_MESSAGES = {
    AgentStatus.FINISHED: "The agent finished its task.",
    AgentStatus.ERROR: "The agent stopped on an error.",
    AgentStatus.STUCK: "The agent is stuck and stopped.",
    AgentStatus.WAITING_FOR_CONFIRMATION: "The agent waits for your approval.",
}


def notification_for(status: AgentStatus, window_active: bool) -> str | None:
    """What to tell the user about ``status``, or None when there is nothing to tell."""
    if window_active:
        return None
    return _MESSAGES.get(status)


class Notifier:
    """Window alert always; a tray message too where the desktop has a tray."""

    def __init__(self, window: QWidget, title: str) -> None:
        self._window = window
        self._title = title
        self._tray: QSystemTrayIcon | None = None
        self.sent: list[str] = []  # what was said, newest last

    def maybe_notify(self, status: AgentStatus) -> bool:
        message = notification_for(status, self._window.isActiveWindow())
        if message is None:
            return False
        self.sent.append(message)
        QApplication.alert(self._window, ALERT_MS)
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(self._window.windowIcon(), self._window)
                self._tray.setToolTip(self._title)
                self._tray.activated.connect(lambda _reason: self._raise())
                self._tray.messageClicked.connect(self._raise)
            self._tray.show()
            self._tray.showMessage(self._title, message, QSystemTrayIcon.MessageIcon.Information)
        return True

    def _raise(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()
