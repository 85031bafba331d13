"""The shown conversation's reply as it streams, into the event view: "Thinking… N s" from
the request on, the answer growing, the live row restored when a conversation streaming
in the background is shown again."""

from __future__ import annotations

from PySide6.QtCore import QObject

from agent.session.notices import StreamDeltas
from gui.event_view.view import EventView
from gui.sessions.open_conversations import OpenConversations
from gui.sessions.session_bridge import SessionBridge


class StreamingControls(QObject):
    def __init__(self, conversations: OpenConversations, view: EventView) -> None:
        super().__init__(view)
        self._view = view
        conversations.model_asked.connect(self._on_asked)
        conversations.stream_received.connect(self._on_stream)
        # Connected after the window's own handler: the rows are shown, the live one follows.
        conversations.current_changed.connect(self._restore)

    def _on_asked(self, request_event_count: int) -> None:
        self._view.model().start_stream(request_event_count)

    def _on_stream(self, taken: StreamDeltas) -> None:
        self._view.model().add_stream(taken.deltas)

    def _restore(self, bridge: SessionBridge) -> None:
        live = bridge.live_reply
        if live is None:
            return
        request_event_count, started, deltas = live
        model = self._view.model()
        model.start_stream(request_event_count, started)
        model.add_stream(deltas)
