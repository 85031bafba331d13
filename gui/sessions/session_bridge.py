"""One conversation's session, seen from the GUI thread: its notices as typed Qt signals.

``SessionBridge`` owns one ``agent.Session`` and the QThread its loop runs on (the agent's
``run()`` runs there too). The session reports from its loop's thread and the engine's;
each notice crosses to the GUI thread, in the order it was sent, and there the bridge
keeps what a view needs to show the conversation again (its events, the live output of a
command still running, the container, the costs) and re-emits the notice as the matching
signal. So every public signal is emitted on the GUI thread.

Notices wait in an inbox the GUI thread drains a few milliseconds at a time: a conversation
opening sends a burst of them (phase, opened, container, status, the first events), and
handled in one go they kept the event loop from its timers and paints for 50-100 ms;
between two slices the window repaints and its timers fire.

Commands (``send``, ``pause``, ...) return at once; they are the session's, which refuses
what its rules (agent/session_commands.py) do not allow in the current phase and status.
Pause and Stop reach the engine's lock-free methods directly while a run is active.
The signals are listed in the class docstring.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from agent.events import ActionEvent, Event, ObservationEvent
from agent.llm.stream import StreamDelta
from agent.session import notices as n
from agent.session.commands import Command, Phase
from agent.session.session import Hooks, Session
from agent.status import AgentStatus
from gui.event_view.streaming import ends_stream
from gui.settings.app_settings import AppSettings

if TYPE_CHECKING:
    from agent import Agent, Conversation, ConversationStats
    from agent.conversation.network import NetworkSetting
    from sandbox import Secret

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_S = 20.0
# How long one pass of the event loop spends on notices before it lets the rest wait.
SLICE_S = 0.008
PAUSING = "Pausing…"
RESUMING = "Resuming…"


# Every bridge whose loop thread was started and has not been seen to end. Held strongly:
# a QThread destroyed while it runs aborts the whole process (Qt's qFatal), so a bridge
# dropped by its owner while its session still closes must stay alive until it has.
_LIVE: set[SessionBridge] = set()


def end_all_sessions(timeout: float = SHUTDOWN_WAIT_S) -> list[str]:
    """Quit every session loop still running and wait for them (at exit, after the
    window's own shutdown). Returns a description of each one that did not end in
    ``timeout`` seconds, all of them waited on together."""
    deadline = time.monotonic() + timeout
    left: list[str] = []
    for bridge in list(_LIVE):
        if not bridge._thread.isRunning():
            _LIVE.discard(bridge)
            continue
        bridge.quit()
    for bridge in list(_LIVE):
        remaining = max(0.0, deadline - time.monotonic())
        if bridge.wait_closed(remaining):
            _LIVE.discard(bridge)
        else:
            left.append(f"{bridge.conversation_id or 'a new conversation'}: {bridge.status}")
    return left


class _LoopThread(QThread):
    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.setObjectName("berth-session")

    def run(self) -> None:
        self._session.serve()


class SessionBridge(QObject):
    """One conversation's session for the window (see the module docstring).

    Signals (past tense, as superqt's workers name theirs):

    - ``started_starting(str)``: the container is being started or an image built (progress)
    - ``opened(object, bool)``: the Conversation is up; True when it was a saved one
    - ``start_failed(str, str, str)``: reason (agent.session.notices.StartFailure), message, image
    - ``status_changed(object, str)``: AgentStatus, its detail
    - ``phase_changed(str)``: agent.session.commands.Phase (what is allowed changed)
    - ``event_recorded(object)``: an agent.events model, once it is on disk
    - ``output_received(list)``: [(tool_call_id, chunk)] of live command output, in order
    - ``model_asked(int)``: a step's request went out, built from that many events
    - ``stream_received(object)``: agent.session.notices.StreamDeltas, pieces of the reply
      (drained when the GUI thread gets to them: a few per frame, not one per token)
    - ``stats_changed(object)``: ConversationStats (tokens, cost), once per LLM reply
    - ``container_changed(str, bool, bool)``: short id, frozen, stopped by signal
    - ``queued_changed(int)``: the user's messages the model has not seen yet
    - ``run_ended(object)``: the AgentStatus a run ended with
    - ``command_failed(str, str)``: the command, what went wrong
    - ``forked(str)``: a fork was saved under this id
    - ``changes_listed(object, list, list)``: since (checkpoint id or None), [FileChange],
      the paths of those git would not show (.git/, .gitignore'd)
    - ``network_changed(object, bool)``: NetworkSetting saved; True when it holds already
    - ``closed()``: the session is over (closed or deleted); its thread has ended
    - ``deleted(str, bool)``: id, True when the container's removal waits for the engine
    """

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
    forked = Signal(str)
    changes_listed = Signal(object, list, list)
    network_changed = Signal(object, bool)
    closed = Signal()
    deleted = Signal(str, bool)

    _woken = Signal()  # from any thread, queued to the GUI thread: the inbox has notices

    def __init__(
        self,
        settings: AppSettings,
        *,
        conversation_id: str | None = None,
        persistence_dir: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.persistence_dir = persistence_dir
        self._inbox: deque[n.Notice] = deque()
        self._inbox_lock = threading.Lock()
        self._draining = False  # a drain is due or under way: no need to wake it again
        self._gui_thread = threading.get_ident()
        self._woken.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        # The rest of a burst, after the event loop's timers and paints (a zero timer
        # would run before them).
        self._next_slice = QTimer(self)
        self._next_slice.setSingleShot(True)
        self._next_slice.setInterval(1)
        self._next_slice.timeout.connect(self._drain)
        self._session = Session(
            self._make_conversation,
            self._post,
            conversation_id=conversation_id,
            persistence_dir=persistence_dir,
        )
        # What a view needs to show this conversation again, kept on the GUI thread.
        self.events: list[Event] = []
        self.live_output: dict[str, list[str]] = {}  # a command's output until its result
        # The reply streaming now: (request_event_count, asked at time.monotonic(),
        # its pieces so far), until the event that ends it.
        self.live_reply: tuple[int, float, list[StreamDelta]] | None = None
        self.container: tuple[str | None, bool, bool] = (None, False, False)
        self.stats: ConversationStats | None = None
        # Actions awaiting approval, as the last status notice said (never read from the
        # conversation's state: that takes the engine's lock on the GUI thread).
        self.pending_actions: tuple[ActionEvent, ...] = ()
        self.draft = ""  # what the user had typed in the composer for this one
        # A new one on a copy of this git repository (sandbox.GitWorkspace); None: a volume.
        self.repo: str | None = None
        self.starting_text = ""
        # "Pausing…" / "Resuming…": said on the click, on the GUI thread, until the session's
        # status says the pause or the resume took (so the window answers at once).
        self.transition = ""
        self._closed = False
        self._thread = _LoopThread(self._session)
        self._thread.finished.connect(self._on_loop_ended)
        _LIVE.add(self)
        self._thread.start()

    # --- what a view reads ------------------------------------------------------------------

    @property
    def conversation(self) -> Conversation | None:
        return self._session.conversation

    @property
    def conversation_id(self) -> str | None:
        return self._session.conversation_id

    @property
    def status(self) -> AgentStatus:
        return self._session.status

    @property
    def status_detail(self) -> str:
        return self._session.status_detail

    @property
    def phase(self) -> Phase:
        return self._session.phase

    @property
    def is_starting(self) -> bool:
        return self._session.phase is Phase.STARTING

    @property
    def is_running(self) -> bool:
        return self._session.phase is Phase.RUNNING

    @property
    def is_closed(self) -> bool:
        return self._closed or self._session.phase is Phase.CLOSED

    @property
    def queued_count(self) -> int:
        return self._session.queued_count

    def allowed(self) -> frozenset[Command]:
        return self._session.allowed()

    # --- commands (return at once) ----------------------------------------------------------

    def start(self) -> bool:
        """Start (a saved one: reopen), also again after a failed start (engine away,
        image missing): what the user typed meanwhile is sent once the container is up."""
        return self._session.start()

    def send(self, text: str) -> bool:
        return self._session.send(text)

    def pause(self) -> bool:
        asked = self._session.pause()
        if asked and self._session.status is AgentStatus.RUNNING:
            self.transition = PAUSING
        return asked

    def resume(self) -> bool:
        asked = self._session.resume()
        if asked and self._session.status is not AgentStatus.RUNNING:
            self.transition = RESUMING
        return asked

    def stop(self) -> bool:
        return self._session.stop()

    @property
    def can_cancel_start(self) -> bool:
        """Starting, and Stop can cancel it (a repository's copy under way)."""
        return self.is_starting and Command.STOP in self._session.allowed()

    def approve(self) -> bool:
        return self._session.approve()

    def reject(self, reason: str = "") -> bool:
        return self._session.reject(reason)

    def rewind(self, checkpoint_id: str) -> bool:
        return self._session.rewind(checkpoint_id)

    def fork(self, checkpoint_id: str) -> bool:
        return self._session.fork(checkpoint_id)

    def changes(self, since: str | None = None) -> bool:
        return self._session.changes(since)

    def set_network(self, setting: NetworkSetting) -> bool:
        """This conversation's network mode and allow-list, saved and applied."""
        return self._session.set_network(setting.as_workspace_network())

    def allow_host(self, host: str) -> bool:
        """Add ``host`` to this conversation's allow-list: its next request passes."""
        return self._session.allow_host(host)

    def use_settings(self) -> bool:
        """Settings changed: the model, its base URL and its key apply from this open
        conversation's next request on, the MCP tools' approvals from their next call
        (one not open yet reads them when it starts)."""
        self._session.set_mcp_approvals(dict(self.settings.mcp_approvals))
        return self._session.set_llm(
            self.settings.make_llm(), self.settings.make_condensation_llm()
        )

    def close(self) -> bool:
        return self._session.close()

    def quit(self) -> bool:
        return self._session.quit()

    def delete(self, remove_container: bool = True) -> bool:
        return self._session.delete(remove_container)

    def wait_closed(self, timeout: float = SHUTDOWN_WAIT_S) -> bool:
        """Block until the loop has ended (after close() or delete()); False on timeout."""
        return self._thread.wait(int(timeout * 1000))

    # --- notices, on the GUI thread ---------------------------------------------------------

    def _post(self, notice: n.Notice) -> None:
        """From the session's threads: into the inbox, waking the GUI thread if it sleeps.
        Said on the GUI thread itself (a command refused at once), it is handled at once."""
        with self._inbox_lock:
            self._inbox.append(notice)
            if self._draining:
                return
            self._draining = True
        if threading.get_ident() == self._gui_thread:
            self._drain(slice_s=None)
        else:
            self._woken.emit()

    @Slot()
    def _drain(self, slice_s: float | None = SLICE_S) -> None:
        """Handle waiting notices, in order, for ``slice_s`` (None: all of them)."""
        began = time.perf_counter()
        while True:
            with self._inbox_lock:
                if not self._inbox:
                    self._draining = False
                    return
                notice = self._inbox.popleft()
            self._on_notice(notice)
            if slice_s is not None and time.perf_counter() - began > slice_s:
                self._next_slice.start()
                return

    def _on_notice(self, notice: n.Notice) -> None:
        if isinstance(notice, n.EventRecorded):
            event = notice.event
            self.events.append(event)
            if isinstance(event, ObservationEvent):
                self.live_output.pop(event.tool_call_id, None)
            if ends_stream(event):
                self.live_reply = None
            self.event_recorded.emit(event)
        elif isinstance(notice, n.OutputWaiting):
            chunks = self._session.take_output()
            for tool_call_id, chunk in chunks:
                self.live_output.setdefault(tool_call_id, []).append(chunk)
            if chunks:
                self.output_received.emit(chunks)
        elif isinstance(notice, n.ModelAsked):
            self.live_reply = (notice.request_event_count, time.monotonic(), [])
            self.model_asked.emit(notice.request_event_count)
            self._take_stream()  # what came before this notice reached the GUI thread
        elif isinstance(notice, n.StreamWaiting):
            self._take_stream()
        elif isinstance(notice, n.StatusChanged):
            self.pending_actions = notice.pending_actions
            if (notice.status is AgentStatus.RUNNING) == (self.transition == RESUMING):
                self.transition = ""  # the pause (any status but RUNNING) or resume took
            self.status_changed.emit(notice.status, notice.detail)
        elif isinstance(notice, n.PhaseChanged):
            self._on_phase(notice.phase)
        elif isinstance(notice, n.Starting):
            self.starting_text = notice.text
            self.started_starting.emit(notice.text)
        elif isinstance(notice, n.Opened):
            self.starting_text = ""
            if notice.reopened:
                self.events = list(notice.events)
                self.stats = notice.stats or self.stats
            self.opened.emit(notice.conversation, notice.reopened)
        else:
            self._on_other(notice)

    def _on_other(self, notice: n.Notice) -> None:
        if isinstance(notice, n.StatsChanged):
            self.stats = notice.stats
            self.stats_changed.emit(notice.stats)
        elif isinstance(notice, n.ContainerChanged):
            self.container = (notice.short_id, notice.frozen, notice.stopped)
            self.container_changed.emit(notice.short_id, notice.frozen, notice.stopped)
        elif isinstance(notice, n.QueuedChanged):
            self.queued_changed.emit(notice.count)
        elif isinstance(notice, n.RunEnded):
            self.transition = ""
            self.run_ended.emit(notice.status)
        elif isinstance(notice, n.StartFailed):
            self.starting_text = ""
            self.start_failed.emit(str(notice.reason), notice.message, notice.image)
        elif isinstance(notice, n.CommandFailed):
            self.command_failed.emit(notice.command, notice.message)
        elif isinstance(notice, n.Forked):
            self.forked.emit(notice.conversation_id)
        elif isinstance(notice, n.ChangesListed):
            self.changes_listed.emit(notice.since, notice.changes, notice.ignored)
        elif isinstance(notice, n.NetworkChanged):
            self.network_changed.emit(notice.setting, notice.now)
        elif isinstance(notice, n.Deleted):
            self.deleted.emit(notice.conversation_id, notice.removal_pending)

    def _take_stream(self) -> None:
        live = self.live_reply
        taken = self._session.take_stream(live[0] if live is not None else None)
        if live is None or not taken.deltas or taken.request_event_count != live[0]:
            return
        live[2].extend(taken.deltas)
        self.stream_received.emit(taken)

    def _on_phase(self, phase: str) -> None:
        self.phase_changed.emit(phase)

    @Slot()
    def _on_loop_ended(self) -> None:
        self._drain(slice_s=None)  # whatever the session said last comes before closed
        self._closed = True
        _LIVE.discard(self)
        self.closed.emit()

    # --- the conversation, made on the session's thread -------------------------------------

    def _make_conversation(self, hooks: Hooks) -> Conversation:
        from agent import Conversation
        from gui.network.secret_store import read_secret
        from sandbox import DockerWorkspace

        settings = self.settings
        agent = make_agent(settings)
        workspace: Any = None
        if hooks.conversation_id is None:
            # The settings' limits apply to each new conversation (image None: the
            # default); a reopened one finds its own container again (its saved spec).
            options = {
                "on_progress": hooks.on_progress,
                "secrets": settings_secrets(settings),
                **settings.workspace_options(),
            }
            if self.repo is not None:
                from sandbox import GitWorkspace

                workspace = GitWorkspace(repo=self.repo, image=settings.sandbox_image, **options)
            else:
                workspace = DockerWorkspace(settings.sandbox_image, **options)
            hooks.on_workspace(workspace)  # Stop can cancel a long start (a big repository)
        return Conversation(
            agent,
            workspace=workspace,
            conversation_id=hooks.conversation_id,
            persistence_dir=self.persistence_dir,
            callbacks=[hooks.on_event],
            on_status_change=hooks.on_status_change,
            on_command_output=hooks.on_command_output,
            token_callbacks=[hooks.on_token],
            on_request_sent=hooks.on_request_sent,
            max_iterations=settings.max_iterations,
            confirmation_mode=settings.confirmation_mode,
            secret_value=read_secret,  # a reopened one's saved secrets, by name
        )


def make_agent(settings: AppSettings) -> Agent:
    """The Agent a conversation of the window runs: the model, the built-in tools, and the
    MCP servers and tool approvals of Settings."""
    from agent import Agent, Tool

    return Agent(
        llm=settings.make_llm(),
        tools=[Tool(name="BashTool"), Tool(name="FileEditorTool")],
        condensation_llm=settings.make_condensation_llm(),
        mcp_servers=settings.mcp_servers_to_start(),
        mcp_approvals=dict(settings.mcp_approvals),
    )


def settings_secrets(settings: AppSettings) -> list[Secret]:
    """The secrets Settings lists, with their values from the keyring (read here, on the
    session's thread), for a new allow-list conversation; ones without a value are left out."""
    if settings.network_mode != "allow-list":
        return []
    from agent.conversation.network import fill_secrets
    from agent.conversation.state import SecretSpec, WorkspaceSpec
    from gui.network.secret_store import read_secret

    spec = WorkspaceSpec(
        allow=settings.network_allow,
        secrets=[SecretSpec(name=e.name, hosts=e.hosts) for e in settings.secrets],
    )
    return fill_secrets(spec, read_secret)
