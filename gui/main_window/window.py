"""The main window: toolbar, event stream over the composer, the container's files, status.

``MainWindow()`` needs no arguments: settings come from the environment (see
gui/settings/app_settings.py). Building it touches neither litellm nor Docker, so it shows
at once; both load after the window is on screen, the container with the first message.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedLayout,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from agent.events import AgentErrorEvent, Event, MessageEvent, ObservationEvent, RewindEvent
from agent.status import AgentStatus
from gui.background import Background
from gui.checkpoints.controls import CheckpointControls
from gui.event_view import EventView
from gui.event_view.assembler import RowAssembler
from gui.history.panel import HistoryPanel, LastOpenWriter, load_last_open, load_open_ids
from gui.main_window.actions import MainActions, load_icon
from gui.main_window.composer import Composer
from gui.main_window.confirmation_bar import ConfirmationBar
from gui.main_window.dialogs import engine_unreachable_dialog, quit_dialog
from gui.main_window.failures import FailureHandling
from gui.main_window.side_tabs import SidePanel
from gui.main_window.status_bar import StatusBar
from gui.main_window.streaming import StreamingControls
from gui.main_window.welcome import WelcomePage
from gui.network.controls import NetworkControls
from gui.preload import (
    after_first_paint,
    preload_heavy_modules,
    settle_garbage_collector,
    warm_up_documents,
)
from gui.repository.hand_back import HandBackControls
from gui.repository.picker import RepositoryChoice
from gui.sessions.open_conversations import OpenConversations
from gui.sessions.session_bridge import SessionBridge
from gui.settings.app_settings import AppSettings
from gui.settings.key_store import read_saved_key

if TYPE_CHECKING:
    from agent import Conversation

APP_NAME = "Berth"


class MainWindow(QMainWindow):
    """Berth's window. ``conversations`` holds every open conversation (several run at
    once); ``session`` is the one shown, which the toolbar and the composer act on."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        *,
        persistence_dir: Path | None = None,
        preload: bool = True,
    ) -> None:
        super().__init__()
        self.setObjectName("main_window")
        # The keyring is read after the first paint (below), not before the window shows.
        self.settings = settings or AppSettings.load(keyring_later=True)
        self._preload = preload
        self._preloaded = False
        self._title = ""
        self._shown: SessionBridge | None = None
        self._stream_of: SessionBridge | None = None  # whose rows the event view holds
        self._assembled: dict[SessionBridge, tuple[RowAssembler, int]] = {}
        self._quit_confirmed = False
        self._shut = False
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(load_icon("app"))
        self.resize(1320, 820)
        self.setMinimumSize(820, 520)

        self.actions_ = MainActions(self)
        for action in self.actions_.all():
            self.addAction(action)  # shortcuts work wherever the focus is in the window
        self.action_new = self.actions_.action_new
        self.action_send = self.actions_.action_send
        self.action_pause = self.actions_.action_pause
        self.action_resume = self.actions_.action_resume
        self.action_stop = self.actions_.action_stop
        self.action_pause_all = self.actions_.action_pause_all
        self.action_settings = self.actions_.action_settings

        self._build_toolbar()
        self._build_centre()
        self.status_bar = StatusBar(self)
        self.setStatusBar(self.status_bar)
        self.status_label: QLabel = self.status_bar.status_label
        self.status_bar.set_model(self.settings.model_label)

        self.conversations = OpenConversations(self.settings, persistence_dir, self)
        self._shown = self.conversations.current
        self._connect()
        self._start_history(persistence_dir)
        self.failures = FailureHandling(
            self,
            self.conversations,
            self.status_bar,
            banner_above=self.confirmation_bar,
            on_start_failed=self._on_start_failed,
            on_open_settings=self.show_settings,
            composer=self.composer,
        )
        self._update_controls()

    # --- construction -----------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        bar = QToolBar("Conversation", self)
        bar.setObjectName("main_toolbar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        a = self.actions_
        bar.addAction(a.action_new)
        bar.addSeparator()
        bar.addAction(a.action_send)
        bar.addAction(a.action_pause)
        bar.addAction(a.action_resume)
        bar.addAction(a.action_stop)
        bar.addSeparator()
        bar.addAction(a.action_pause_all)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.title_label = QLabel(bar)
        self.title_label.setObjectName("toolbar_title")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        bar.addWidget(self.title_label)
        bar.addSeparator()
        bar.addAction(a.action_settings)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

    def _build_centre(self) -> None:
        self.event_view = EventView(self)
        self.composer = Composer(self.action_send, self, settings_action=self.action_settings)
        self.composer_edit = self.composer.editor
        self.confirmation_bar = ConfirmationBar(self)
        self.engine_dialog: QMessageBox | None = None

        left = QSplitter(Qt.Orientation.Vertical, self)
        left.setObjectName("conversation_splitter")
        left.setChildrenCollapsible(False)
        left.setHandleWidth(8)
        # The confirmation bar sits under the stream, right above the composer: while it
        # shows, the stream gives it room (the composer keeps the height the user chose).
        upper = QWidget(left)
        upper.setObjectName("stream_area")
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.setSpacing(8)
        stream = QFrame(upper)
        stream.setObjectName("panel")
        upper_layout.addWidget(stream, 1)
        upper_layout.addWidget(self.confirmation_bar)
        self._stream_stack = QStackedLayout(stream)
        self._stream_stack.setContentsMargins(1, 1, 1, 1)
        self.welcome = WelcomePage(stream)
        self._stream_stack.addWidget(self.welcome)
        self._stream_stack.addWidget(self.event_view)
        left.addWidget(upper)
        left.addWidget(self.composer)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 0)
        left.setSizes([640, 130])

        files = SidePanel(self)  # Files, Changes, Network
        self.file_browser, self.changes_view = files.file_browser, files.changes_view
        self.network_view, self.side_tabs = files.network_view, files.tabs
        self.file_tree = self.file_browser.file_tree
        self.file_viewer = self.file_browser.file_viewer

        centre = QSplitter(Qt.Orientation.Horizontal, self)
        centre.setObjectName("main_splitter")
        centre.setChildrenCollapsible(False)
        centre.setHandleWidth(8)
        centre.addWidget(left)
        centre.addWidget(files)
        centre.setStretchFactor(0, 3)
        centre.setStretchFactor(1, 2)
        centre.setSizes([780, 520])

        holder = QWidget(self)
        holder.setObjectName("centre")
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(8, 8, 8, 4)
        # History on the left; dragging its edge all the way folds it away.
        self.history_panel = HistoryPanel(None, self)
        history = QFrame(self)
        history.setObjectName("panel")
        history_layout = QVBoxLayout(history)
        history_layout.setContentsMargins(6, 4, 6, 6)
        history_layout.addWidget(self.history_panel)
        outer = QSplitter(Qt.Orientation.Horizontal, self)
        outer.setObjectName("history_splitter")
        outer.setHandleWidth(8)
        outer.addWidget(history)
        outer.addWidget(centre)
        outer.setCollapsible(0, True)
        outer.setCollapsible(1, False)
        outer.setStretchFactor(0, 0)
        outer.setStretchFactor(1, 1)
        outer.setSizes([230, 1070])
        self.history_splitter = outer
        layout.addWidget(outer)
        self.setCentralWidget(holder)
        self.main_splitter = centre
        self.conversation_splitter = left

    @property
    def session(self) -> SessionBridge:
        """The conversation shown."""
        return self.conversations.current

    def _connect(self) -> None:
        a = self.actions_
        a.action_send.triggered.connect(self.send_from_composer)
        # "Pausing…" / "Resuming…" at once, on the click, until the status says it took.
        a.action_pause.triggered.connect(lambda: self._asked(self.session.pause()))
        a.action_resume.triggered.connect(lambda: self._asked(self.session.resume()))
        a.action_stop.triggered.connect(lambda: self.session.stop())
        a.action_pause_all.triggered.connect(self.pause_all)
        a.action_new.triggered.connect(self.new_conversation)
        a.action_settings.triggered.connect(self.show_settings)
        self.composer_edit.textChanged.connect(self._update_controls)

        s = self.conversations  # the shown conversation's signals, whichever it is
        s.started_starting.connect(self._on_starting)
        s.opened.connect(self._on_opened)
        s.start_failed.connect(self._on_start_failed_because)
        s.event_recorded.connect(self._on_event)
        s.output_received.connect(self._on_output)
        s.status_changed.connect(self._on_status)
        s.phase_changed.connect(lambda _p: self._update_controls())
        s.stats_changed.connect(self.status_bar.set_stats)
        s.container_changed.connect(self.status_bar.set_container)
        s.queued_changed.connect(lambda _n: self._update_controls())
        s.run_ended.connect(self._on_run_finished)
        s.command_failed.connect(lambda _c, message: self._show_error(message))
        s.current_changed.connect(self._show_conversation)
        s.status_of.connect(self._on_status_of)
        s.forked.connect(self.open_conversation)
        s.deleted.connect(self._on_deleted)
        self.confirmation_bar.approved.connect(lambda: self.session.approve())
        self.confirmation_bar.rejected.connect(lambda reason: self.session.reject(reason))
        self.checkpoint_controls = CheckpointControls(
            self, s, self.event_view, self.changes_view, self.side_tabs
        )
        self.streaming = StreamingControls(s, self.event_view)
        self.hand_back = HandBackControls(self, s, self.checkpoint_controls, self.side_tabs)
        self.repository = RepositoryChoice(self, s, self.toolbar, a.action_new, self.welcome)
        self.network_controls = NetworkControls(self, s, self.network_view, self.side_tabs)

    # --- user actions -----------------------------------------------------------------------

    def send_from_composer(self) -> None:
        text = self.composer.take_text()
        if text:
            self.session.send(text)
        self._update_controls()

    def _asked(self, taken: bool) -> None:
        if taken:
            self._update_controls()

    def new_conversation(self) -> None:
        """A fresh conversation, shown; any that run go on running."""
        self.conversations.new()
        self.composer_edit.setFocus()

    def open_conversation(self, conversation_id: str) -> None:
        """Show a conversation (reopened if it is not open); none other is paused."""
        self.conversations.open(conversation_id)

    def pause_all(self) -> int:
        """Pause every conversation whose agent is at work; how many were asked."""
        return self.conversations.pause_all()

    def show_settings(self) -> None:
        # Window-modal, not app-blocking: the agent keeps running while it is open.
        from gui.settings.dialog import SettingsDialog

        # The shown conversation's events (kept on the GUI thread) say its MCP servers.
        dialog = SettingsDialog(self.settings, self, events=self.session.events)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._apply_settings)
        dialog.open()

    def _apply_settings(self, new: AppSettings) -> None:
        # In place: each session holds this object (a new conversation reads it as it
        # starts); open ones take the model endpoint at their next request.
        self.settings.update_from(new)
        self.conversations.use_settings()
        self.status_bar.set_model(self.settings.model_label)
        self._update_controls()

    # --- session signals --------------------------------------------------------------------

    def _on_starting(self, text: str) -> None:
        self.status_bar.set_status(self.session.status, text, starting=True)
        self._update_controls()

    def _on_opened(self, conversation: Conversation, reopened: bool) -> None:
        if reopened:
            self._show_events(self.session)
        self.file_browser.set_workspace(conversation.workspace)
        self.checkpoint_controls.show_checkpoints_of(self.session.events)
        self._remember_open(conversation.id)
        self._update_controls()

    def _on_start_failed_because(self, reason: str, message: str, image: str) -> None:
        from agent.session.notices import StartFailure

        if reason == StartFailure.ENGINE_UNREACHABLE:
            self._on_engine_unreachable(message)
        elif reason == StartFailure.IMAGE_MISSING:
            self.failures.on_image_missing(image, message)
        elif reason == StartFailure.CANCELLED:  # the user's Stop: said, not an error
            from agent.events import NoticeEvent

            notice = NoticeEvent(title="Start cancelled", text=message, source="sandbox")
            self.event_view.model().append_event(notice)
            self._update_controls()
        else:
            self._on_start_failed(message)

    def _on_start_failed(self, message: str) -> None:
        text = f"Could not start the container: {message}"
        self.event_view.model().append_event(AgentErrorEvent(message=text, source="sandbox"))
        self._show_stream(True)
        self._update_controls()
        self._show_error(text)

    def _on_event(self, event: Event) -> None:
        self.event_view.model().append_event(event)
        self._show_stream(True)
        self.checkpoint_controls.on_event(event)
        if isinstance(event, ObservationEvent | RewindEvent):
            self.file_browser.refresh()
        elif isinstance(event, MessageEvent) and event.role == "user" and not self._title:
            self._set_title(event.text)

    def _on_output(self, chunks: list[tuple[str, str]]) -> None:
        model = self.event_view.model()
        for tool_call_id, chunk in chunks:
            model.append_output(tool_call_id, chunk)

    def _on_status(self, status: AgentStatus, detail: str) -> None:
        self._update_controls()
        self._update_confirmation(status)
        if status in (AgentStatus.PAUSED, AgentStatus.FINISHED):
            self.file_browser.refresh()

    def _on_run_finished(self, _status: AgentStatus) -> None:
        self._update_controls()
        if self._preload:
            QTimer.singleShot(0, settle_garbage_collector)

    def _show_conversation(self, bridge: SessionBridge) -> None:
        """Show another open conversation (or a fresh one): its events, files, status.
        Nothing is asked of any conversation: showing one never pauses another."""
        previous = self._shown
        if previous is not None and previous is not bridge:
            previous.draft = self.composer.text()
        self._shown = bridge
        self.composer.set_text(bridge.draft)
        self.failures.reset()
        self._show_events(bridge)
        conversation = bridge.conversation
        self.file_browser.set_workspace(conversation.workspace if conversation else None)
        if conversation is not None:
            self.checkpoint_controls.show_checkpoints_of(bridge.events)
        else:
            self.checkpoint_controls.reset()
        self.status_bar.set_stats(bridge.stats)
        self.status_bar.set_container(*bridge.container)
        self.history_panel.set_current(bridge.conversation_id)
        if bridge.conversation_id is not None:
            self._last_open.save_soon(bridge.conversation_id)
        self._update_confirmation(bridge.status)
        self._update_controls()

    def _show_events(self, bridge: SessionBridge) -> None:
        """The stream of ``bridge``: the rows it had when last shown, brought up to date
        with what happened since (a switch of 2,000 events repaints, rebuilding nothing),
        or built from its events the first time."""
        model = self.event_view.model()
        shown = self._stream_of
        if shown is not None and shown is not bridge and not shown.is_closed:
            self._assembled[shown] = (model.assembler, len(shown.events))
        self._stream_of = bridge
        for gone in [b for b in self._assembled if b.is_closed]:
            del self._assembled[gone]
        kept = self._assembled.pop(bridge, None)
        if kept is None:
            model.set_events(bridge.events)
        else:
            assembler, count = kept
            for event in bridge.events[count:]:
                assembler.add(event)
            model.show_assembled(assembler)
        for tool_call_id, chunks in bridge.live_output.items():
            model.replace_output(tool_call_id, "".join(chunks))
        self._show_stream(bool(bridge.events))
        title = next(
            (e.text for e in bridge.events if isinstance(e, MessageEvent) and e.role == "user"),
            "",
        )
        self._set_title(title)

    def _show_error(self, message: str) -> None:
        self.status_bar.show_error(message)

    def _update_confirmation(self, status: AgentStatus) -> None:
        waiting = status is AgentStatus.WAITING_FOR_CONFIRMATION
        pending = self.session.pending_actions if waiting else ()
        if pending:
            self.confirmation_bar.show_actions(pending)
        elif not self.confirmation_bar.isHidden():
            self.confirmation_bar.hide()
            self.composer_edit.setFocus()

    def _on_engine_unreachable(self, message: str) -> None:
        """Say what to do, in a dialog that blocks nothing; Retry starts again."""
        self._update_controls()
        self._show_error("The Docker engine is not reachable")
        if self.engine_dialog is not None:
            self.engine_dialog.close()
        box = engine_unreachable_dialog(self, message, on_retry=lambda: self.session.start())
        box.finished.connect(lambda _r: self._forget_engine_dialog(box))
        self.engine_dialog = box
        box.open()

    def _forget_engine_dialog(self, box: QMessageBox) -> None:
        self.engine_dialog = None if self.engine_dialog is box else self.engine_dialog

    # --- history -----------------------------------------------------------------------------

    def _start_history(self, persistence_dir: Path | None) -> None:
        from agent.conversation.persistence import resolve_persistence_dir

        self._history_root = resolve_persistence_dir(persistence_dir)
        self._last_open = LastOpenWriter(Background(self), self._history_root)
        panel = self.history_panel
        panel.persistence_dir = self._history_root
        panel.open_requested.connect(self.open_conversation)
        panel.delete_requested.connect(self.conversations.delete)
        panel.close_requested.connect(self.conversations.close)
        self.conversations.listing_changed.connect(panel.refresh)
        panel.refresh()
        # Where the user left off: the conversations open at quit are reopened in the
        # background once the window is up (paused, if they were at work), the last one
        # shown.
        last, open_ids = load_last_open(self._history_root), load_open_ids(self._history_root)
        if last and (self._history_root / last).is_dir():
            panel.set_current(last)
            QTimer.singleShot(0, lambda: self._reopen(last, open_ids))

    def _reopen(self, last: str, open_ids: list[str]) -> None:
        for conversation_id in open_ids:
            if conversation_id != last and (self._history_root / conversation_id).is_dir():
                self.conversations.open(conversation_id)
        self.open_conversation(last)

    def _remember_open(self, conversation_id: str) -> None:
        if self.session.conversation_id == conversation_id:
            self.history_panel.set_current(conversation_id)
            self._last_open.save_soon(conversation_id)

    def _on_status_of(self, bridge: SessionBridge, status: AgentStatus | None, detail: str) -> None:
        """Every open conversation's row shows its live status (a closed one's: saved)."""
        if bridge.conversation_id is not None:
            self.history_panel.set_live_status(
                bridge.conversation_id, status, detail, starting=bridge.is_starting
            )
        self.actions_.update_pause_all(len(self.conversations.running()))

    def _on_deleted(self, conversation_id: str, removal_pending: bool) -> None:
        self.history_panel.refresh()
        if removal_pending:
            self._show_error(
                "Deleted. Docker is not reachable: its container and volume are removed "
                "when Docker is back."
            )

    # --- state of the controls --------------------------------------------------------------

    def _update_controls(self) -> None:
        s = self.session
        starting = s.is_starting
        status = s.status
        configured = self.settings.is_configured
        self.actions_.update_for(
            status,
            phase=s.phase,
            has_text=self.composer.has_text(),
            configured=configured,
            cancellable=s.can_cancel_start,
        )
        detail = (s.starting_text or "Starting the container…") if starting else s.status_detail
        self.status_bar.set_status(status, detail, starting=starting, word=s.transition)
        self.actions_.update_pause_all(len(self.conversations.running()))
        self.composer.set_hint(
            status, starting=starting, queued=s.queued_count, configured=configured
        )

    def _show_stream(self, on: bool) -> None:
        page = self.event_view if on else self.welcome
        if self._stream_stack.currentWidget() is not page:
            self._stream_stack.setCurrentWidget(page)

    def _set_title(self, text: str) -> None:
        first_line = text.strip().splitlines()[0] if text.strip() else ""
        if len(first_line) > 60:
            first_line = first_line[:59].rstrip() + "…"
        self._title = first_line
        self.title_label.setText(first_line)
        self.setWindowTitle(f"{first_line} — {APP_NAME}" if first_line else APP_NAME)

    # --- window events ----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._preload and not self._preloaded:
            self._preloaded = True
            # After the first paint: litellm's import takes seconds and must not delay it.
            after_first_paint(self, self._start_preload)
        if not self.composer_edit.hasFocus():
            self.composer_edit.setFocus()

    def _start_preload(self) -> None:
        warm_up_documents(self.event_view)
        read = lambda: read_saved_key(self.settings)  # noqa: E731
        Background(self).run(read, self._show_keyring_notice, name="keyring")
        # Seconds of work that must never hold up quitting: a thread of its own.
        Background(self).run(preload_heavy_modules, long_running=True, name="preload")

    def _show_keyring_notice(self, notice: str) -> None:
        if notice:
            self.status_bar.show_error(notice)  # once, at start

    def closeEvent(self, event: QCloseEvent) -> None:
        # While agents are at work, quitting offers Pause all first (or to stay).
        if not self._quit_confirmed and self.conversations.running():
            event.ignore()
            self._ask_quit()
            return
        # The window goes away at once; every conversation is paused and its container
        # stopped (files and history are kept) before the app exits: on the next start
        # they come back paused.
        self.hide()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Pause and close every open conversation. Once, at quit (also from the app's
        aboutToQuit)."""
        if self._shut:
            return
        self._shut = True
        open_ids = [
            b.conversation_id
            for b in self.conversations.all()
            if b.conversation_id is not None and not b.is_closed
        ]
        current = self.session.conversation_id
        if open_ids:
            self._last_open.save_now(current, open_ids)
        else:
            self._last_open.flush()
        self.conversations.shutdown()

    def _ask_quit(self) -> None:
        def pause_all_and_quit() -> None:
            self.conversations.pause_all()
            self._quit_confirmed = True
            self.close()

        quit_dialog(self, len(self.conversations.running()), on_pause_all=pause_all_and_quit).open()
