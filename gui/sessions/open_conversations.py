"""The conversations open in the window, each in its own session, and the one shown.

Several run at once, each in its own container, on its own session thread
(gui/sessions/session_bridge.py). The window shows one, ``current``: New makes a fresh one current
(the others go on running), a history row makes that conversation current (reopened if it
was not open), and nothing here ever pauses or stops a conversation because another one is
shown. Pause, Resume and Stop act on the current one; ``pause_all()`` on every one.

The current session's signals are relayed under the same names, so the window's views
listen to one object whichever conversation is shown; signals about any open conversation
(its status for the history list, a fork to open, a deletion) carry the bridge.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from agent.events import MessageEvent
from agent.session.rules import is_at_work
from agent.status import AgentStatus
from gui.sessions.session_bridge import SHUTDOWN_WAIT_S, SessionBridge
from gui.settings.app_settings import AppSettings

log = logging.getLogger(__name__)


_RELAYED = (
    "started_starting",
    "opened",
    "start_failed",
    "status_changed",
    "phase_changed",
    "event_recorded",
    "output_received",
    "model_asked",
    "stream_received",
    "stats_changed",
    "container_changed",
    "queued_changed",
    "run_ended",
    "command_failed",
    "changes_listed",
    "network_changed",
)


class OpenConversations(QObject):
    """See the module docstring. GUI thread only."""

    # The current conversation's, relayed (see SessionBridge for what each carries).
    started_starting = Signal(str)
    opened = Signal(object, bool)
    start_failed = Signal(str, str, str)
    status_changed = Signal(object, str)
    phase_changed = Signal(str)
    event_recorded = Signal(object)
    output_received = Signal(list)
    model_asked = Signal(int)
    stream_received = Signal(object)
    stats_changed = Signal(object)
    container_changed = Signal(str, bool, bool)
    queued_changed = Signal(int)
    run_ended = Signal(object)
    command_failed = Signal(str, str)
    changes_listed = Signal(object, list, list)
    network_changed = Signal(object, bool)

    current_changed = Signal(object)  # the SessionBridge now shown
    fresh_changed = Signal(object)  # New made this bridge the fresh one (its repo may differ)
    # Any open one's: bridge, AgentStatus (None once closed), detail.
    status_of = Signal(object, object, str)
    # What the history lists changed for some open conversation: its first message (the
    # title), the end of a run (the time).
    listing_changed = Signal()
    forked = Signal(str)  # a fork was saved under this id (any open conversation's)
    deleted = Signal(str, bool)  # id, True when its container's removal waits

    def __init__(
        self,
        settings: AppSettings,
        persistence_dir: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.persistence_dir = persistence_dir
        self._bridges: list[SessionBridge] = []
        self._shut = False
        self.current: SessionBridge = self._make()

    # --- what the window reads --------------------------------------------------------------

    def all(self) -> list[SessionBridge]:
        return list(self._bridges)

    def find(self, conversation_id: str) -> SessionBridge | None:
        for bridge in self._bridges:
            if bridge.conversation_id == conversation_id and not bridge.is_closed:
                return bridge
        return None

    def running(self) -> list[SessionBridge]:
        """Those whose agent is at work (agent.session.rules.is_at_work)."""
        return [b for b in self._bridges if not b.is_closed and is_at_work(b.phase, b.status)]

    # --- what the user does -----------------------------------------------------------------

    def new(self, repo: str | None = None) -> SessionBridge:
        """A fresh conversation, shown; it starts with its first message. One not started
        yet and empty is reused rather than piling up. ``repo``: it works on a copy of
        that git repository (else in a volume of its own)."""
        fresh = self.current
        if fresh.conversation_id is not None or fresh.is_starting or fresh.events:
            fresh = next((b for b in self._bridges if _unused(b)), None) or self._make()
        fresh.repo = repo
        self._show(fresh)
        self.fresh_changed.emit(fresh)
        return fresh

    def open(self, conversation_id: str) -> SessionBridge:
        """Show a conversation: the open one with that id, or a saved one, reopened."""
        bridge = self.find(conversation_id)
        if bridge is None:
            bridge = self._make(conversation_id)
            bridge.start()
        self._show(bridge)
        return bridge

    def close(self, conversation_id: str) -> None:
        """Close an open conversation: its run is paused, its container stopped;
        everything stays on disk and a click on its row reopens it."""
        bridge = self.find(conversation_id)
        if bridge is None:
            return
        if bridge is self.current:
            self.new()
        bridge.close()

    def delete(self, conversation_id: str, remove_container: bool) -> None:
        """Delete a conversation, open or not (one not open never gets its container
        started: it goes by label). The one shown is replaced by a fresh one."""
        bridge = self.find(conversation_id)
        if bridge is None:
            bridge = self._make(conversation_id)  # its session deletes without starting
        if bridge is self.current:
            self.new()
        bridge.delete(remove_container)

    def use_settings(self) -> None:
        """Settings changed: every open conversation asks the new model, base URL and key
        from its next request on (Resume after fixing a key works without New)."""
        for bridge in self._bridges:
            if not bridge.is_closed:
                bridge.use_settings()

    def pause_all(self) -> int:
        """Pause every conversation whose agent is at work; how many were asked."""
        asked = 0
        for bridge in self.running():
            if bridge.pause():
                asked += 1
        return asked

    def shutdown(self, timeout: float = SHUTDOWN_WAIT_S) -> None:
        """At quit: pause every run and close every conversation (its container stops,
        everything stays on disk; a command cut short is told the app stopped)."""
        if self._shut:
            return
        self._shut = True
        for bridge in self._bridges:
            bridge.quit()
        for bridge in self._bridges:
            if not bridge.wait_closed(timeout):
                log.warning("a conversation did not close within %.0f s", timeout)

    # --- internals --------------------------------------------------------------------------

    def _make(self, conversation_id: str | None = None) -> SessionBridge:
        bridge = SessionBridge(
            self.settings,
            conversation_id=conversation_id,
            persistence_dir=self.persistence_dir,
            parent=self,
        )
        for name in _RELAYED:
            getattr(bridge, name).connect(partial(self._relay, bridge, name))
        bridge.status_changed.connect(partial(self._on_status, bridge))
        bridge.started_starting.connect(
            lambda _text, b=bridge: self.status_of.emit(b, b.status, "")
        )
        bridge.opened.connect(partial(self._on_opened, bridge))
        bridge.event_recorded.connect(partial(self._on_event, bridge))
        bridge.run_ended.connect(lambda _status: self.listing_changed.emit())
        bridge.forked.connect(self.forked)
        bridge.deleted.connect(self.deleted)
        bridge.closed.connect(partial(self._on_closed, bridge))
        self._bridges.append(bridge)
        return bridge

    def _show(self, bridge: SessionBridge) -> None:
        if bridge is self.current:
            return
        self.current = bridge
        self.current_changed.emit(bridge)

    def _relay(self, bridge: SessionBridge, name: str, *args: Any) -> None:
        if bridge is self.current:
            getattr(self, name).emit(*args)

    def _on_status(self, bridge: SessionBridge, status: AgentStatus, detail: str) -> None:
        self.status_of.emit(bridge, status, detail)

    def _on_event(self, bridge: SessionBridge, event: Any) -> None:
        if isinstance(event, MessageEvent) and event.role == "user":
            first = next((e for e in bridge.events if isinstance(e, MessageEvent)), None)
            if first is event:
                self.listing_changed.emit()

    def _on_opened(self, bridge: SessionBridge, _conversation: Any, _reopened: bool) -> None:
        self.listing_changed.emit()
        self.status_of.emit(bridge, bridge.status, bridge.status_detail)

    def _on_closed(self, bridge: SessionBridge) -> None:
        self.status_of.emit(bridge, None, "")
        if bridge is self.current or self._shut:
            return  # the shown one stays listed until another is shown; at quit, all do
        self._bridges.remove(bridge)
        bridge.deleteLater()


def _unused(bridge: SessionBridge) -> bool:
    return (
        bridge.conversation_id is None
        and not bridge.is_starting
        and not bridge.events
        and not bridge.is_closed
    )
