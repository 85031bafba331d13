"""Rewind, fork and the Changes view, wired between the window's widgets and its session.

The rules (what a rewind keeps, what a fork copies) are the Conversation's; this asks the
user once before a rewind discards later work, runs the commands through the session (off
the GUI thread) and keeps the Changes view fresh while it is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QCheckBox, QMessageBox, QTabWidget, QWidget

from agent.events import CheckpointEvent, Event, ObservationEvent, RewindEvent
from gui.checkpoints.changes_view import STARTING_COMMIT, ChangesView
from gui.event_view import EventView
from gui.sessions.open_conversations import OpenConversations

if TYPE_CHECKING:
    from sandbox.checkpoints import FileChange

# Changes are looked at again at most this often while the agent works.
REFRESH_MS = 400


class CheckpointControls(QObject):
    def __init__(
        self,
        window: QWidget,
        conversations: OpenConversations,
        event_view: EventView,
        changes_view: ChangesView,
        tabs: QTabWidget,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._conversations = conversations
        self._changes = changes_view
        self.changes_view = changes_view
        self._tabs = tabs
        self._steps: list[tuple[str, int]] = []
        # Asked once: "Don't ask again" holds for the rest of the session.
        self.confirm_rewinds = True
        self.last_question: QMessageBox | None = None
        event_view.rewind_requested.connect(self.ask_rewind)
        event_view.fork_requested.connect(self.fork)
        changes_view.refresh_requested.connect(self._ask_changes)
        # Set by the window when a git workspace can compare with its starting commit.
        self.list_patch: Callable[[], None] | None = None
        conversations.changes_listed.connect(self._on_changes)
        conversations.command_failed.connect(self._on_failed)
        tabs.currentChanged.connect(lambda _i: self.refresh_soon())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_shown)

    # -- from the window ----------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        if isinstance(event, CheckpointEvent):
            self._steps.append((event.checkpoint_id, event.step))
            self._changes.set_checkpoints(self._steps)
        if isinstance(event, ObservationEvent | RewindEvent | CheckpointEvent):
            self.refresh_soon()

    def show_checkpoints_of(self, events: list[Event]) -> None:
        """The checkpoints of a conversation shown anew, from the events its bridge keeps
        (never asked of the conversation: that takes its lock on the GUI thread)."""
        self._steps = [(e.checkpoint_id, e.step) for e in events if isinstance(e, CheckpointEvent)]
        self._changes.set_checkpoints(self._steps)
        self.refresh_soon()

    def reset(self) -> None:
        self._steps = []
        self._changes.set_checkpoints([])
        self._changes.set_changes([])

    def refresh_soon(self) -> None:
        self._timer.start()

    # -- the commands ---------------------------------------------------------------------------

    def ask_rewind(self, checkpoint_id: str, step: int) -> None:
        session = self._conversations.current  # the one asked about, even if the user
        if not self.confirm_rewinds:  # shows another before answering
            session.rewind(checkpoint_id)
            return
        where = "the start" if step == 0 else f"step {step}"
        box = QMessageBox(self._window)
        box.setObjectName("rewind_question")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Rewind")
        box.setText(f"Rewind /workspace to {where}?")
        box.setInformativeText(
            "Every change made to /workspace after that point is undone, shell commands "
            "included. The later steps stay in the stream, folded and greyed, and the agent "
            "no longer sees them. To keep them, fork instead."
        )
        rewind = box.addButton("Rewind", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        again = QCheckBox("Don't ask again", box)
        box.setCheckBox(again)

        def answered() -> None:
            if box.clickedButton() is rewind:
                self.confirm_rewinds = not again.isChecked()
                session.rewind(checkpoint_id)

        box.finished.connect(lambda _r: answered())
        self.last_question = box
        box.open()

    def fork(self, checkpoint_id: str, _step: int) -> None:
        self._conversations.current.fork(checkpoint_id)

    # -- the Changes view -----------------------------------------------------------------------

    def _refresh_if_shown(self) -> None:
        shown = self._tabs.currentWidget() is self._changes
        if shown and self._conversations.current.conversation is not None:
            self._changes.request_refresh()

    def _ask_changes(self, since: str | None) -> None:
        if since == STARTING_COMMIT and self.list_patch is not None:
            self.list_patch()
        else:
            self._conversations.current.changes(since)

    def _on_failed(self, command: str, message: str) -> None:
        if command == "changes":
            self._changes.set_error(message)

    def _on_changes(self, since: object, changes: list[FileChange], ignored: list[str]) -> None:
        if since == self._changes.since_checkpoint():  # an answer to an older question
            self._changes.set_changes(changes, ignored)
