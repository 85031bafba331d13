"""The Network tab wired to the conversation shown: its log read off the GUI thread, Allow
this host and Edit… carried to the session (agent/session/queries.py has the rules).

While the tab is on screen, the log is read once a second while the agent runs, and after
each step and each change of the network; one read at a time (``Coalesced``), its answer
dropped when another conversation is shown meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTabWidget, QVBoxLayout, QWidget

from agent.events import Event, ObservationEvent
from gui.background import Background, Coalesced
from gui.network.policy_editor import NOTE_STYLE, PolicyEditor
from gui.network.view import NetworkView
from gui.sessions.open_conversations import OpenConversations

if TYPE_CHECKING:
    from agent.conversation.network import NetworkSetting
    from gui.sessions.session_bridge import SessionBridge
    from sandbox import NetworkRequest

REFRESH_MS = 1000
LATER = "Saved. The new mode takes effect when the container next starts (close and reopen)."


class NetworkControls(QObject):
    def __init__(
        self,
        window: QWidget,
        conversations: OpenConversations,
        view: NetworkView,
        tabs: QTabWidget,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._conversations = conversations
        self._view = view
        self._tabs = tabs
        self._log: Coalesced[tuple[SessionBridge, list[NetworkRequest]]] = Coalesced(
            Background(self), self._on_log, self._on_log_failed, name="network-log"
        )
        self.edit_dialog: QDialog | None = None
        view.allow_requested.connect(self.allow)
        view.edit_requested.connect(self.edit)
        conversations.current_changed.connect(lambda _b: self.show_conversation())
        conversations.opened.connect(lambda _c, _r: self.show_conversation())
        conversations.event_recorded.connect(self._on_event)
        conversations.network_changed.connect(self._on_changed)
        conversations.command_failed.connect(self._on_failed)
        tabs.currentChanged.connect(lambda _i: self.refresh())
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def show_conversation(self) -> None:
        conversation = self._conversations.current.conversation
        self._view.clear()
        self._view.set_setting(conversation.network if conversation is not None else None)
        self.refresh()

    def refresh(self) -> None:
        """Read the log now, if the tab is on screen and the conversation open."""
        bridge = self._conversations.current
        conversation = bridge.conversation
        if conversation is None or bridge.is_closed or not self._shown():
            return
        self._log.request(lambda: (bridge, conversation.network_log()))

    # --- what the user asked ------------------------------------------------------------------

    def allow(self, host: str) -> None:
        if not self._conversations.current.allow_host(host):
            self._view.say("The conversation is not open: reopen it to change its network.",
                           error=True)  # fmt: skip

    def edit(self) -> None:
        """This conversation's mode and list, in a small window-modal dialog."""
        bridge = self._conversations.current
        conversation = bridge.conversation
        if conversation is None:
            return
        dialog = QDialog(self._window)
        dialog.setObjectName("network_edit_dialog")
        dialog.setWindowTitle("Network of this conversation")
        editor = PolicyEditor(conversation.network, dialog)
        note = QLabel("A new allow-list holds at the next request; a new mode when the "
                      "container next starts.", dialog)  # fmt: skip
        note.setStyleSheet(NOTE_STYLE)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, dialog
        )
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        editor.changed.connect(lambda: save.setEnabled(editor.setting() is not None))
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(editor)
        layout.addWidget(note)
        layout.addWidget(buttons)

        def answered(result: int) -> None:
            setting = editor.setting()
            if result == QDialog.DialogCode.Accepted and setting is not None:
                bridge.set_network(setting)

        dialog.finished.connect(answered)
        self.edit_dialog = dialog
        dialog.open()

    # --- answers ------------------------------------------------------------------------------

    def _on_log(self, answer: tuple[SessionBridge, list[NetworkRequest]]) -> None:
        bridge, requests = answer
        if bridge is self._conversations.current:
            self._view.set_requests(requests)

    def _on_log_failed(self, message: str) -> None:
        self._view.summary.setText(f"Could not read the log: {message}")

    def _on_changed(self, setting: NetworkSetting, now: bool) -> None:
        self._view.set_setting(setting)
        self._view.say("" if now else LATER)
        self.refresh()

    def _on_failed(self, command: str, message: str) -> None:
        if command == "network":
            self._view.say(f"Could not change the network: {message}", error=True)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ObservationEvent):
            self.refresh()

    def _tick(self) -> None:
        if self._conversations.current.is_running:
            self.refresh()

    def _shown(self) -> bool:
        return self._tabs.currentWidget() is self._view
