"""Hand back as branch and Save patch…, beside the Changes tab, for a conversation that
works on a copy of a git repository (sandbox.GitWorkspace).

The rules (which commits land, what a second hand-back does, what the patch compares) are
the Conversation's: ``hand_back()`` and ``patch()``. This runs them off the GUI thread
(gui.background), says what came of them in plain words (the branch, the ``git switch``
command to copy) and feeds the Changes view its comparison with the starting commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.background import Background, first_line
from gui.checkpoints.changes_view import STARTING_COMMIT
from gui.checkpoints.controls import CheckpointControls
from gui.sessions.open_conversations import OpenConversations
from gui.theme import DIM_TEXT

if TYPE_CHECKING:
    from agent import Conversation
    from gui.sessions.session_bridge import SessionBridge

ERROR_TEXT = "#cf222e"
NOT_GIT = (
    "This conversation works in its own volume or a host folder, not on a copy of a git "
    "repository: there is no branch to hand back. Start one with New \N{RIGHTWARDS ARROW} "
    "Work on a copy of a git repository."
)
NOT_STARTED = "The conversation's container has not started yet."


def repository_of(conversation: Conversation | None) -> str | None:
    """The host repository a conversation works on a copy of, or None."""
    workspace = conversation.workspace if conversation is not None else None
    repo = getattr(workspace, "repo", None)
    return str(repo) if repo else None


def branch_of(conversation: Conversation | None) -> str | None:
    workspace = conversation.workspace if conversation is not None else None
    try:
        branch = getattr(workspace, "branch", None)
    except Exception:  # named after the conversation: not before its start
        return None
    return str(branch) if branch else None


class HandBackResult(QWidget):
    """Under the buttons, in the Changes tab: what the last hand-back or save did."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hand_back_result")
        self.message = QLabel(self)
        self.message.setObjectName("hand_back_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.command = QLineEdit(self)
        self.command.setObjectName("hand_back_command")
        self.command.setReadOnly(True)  # selectable, to copy
        self.command.setToolTip("Run this in your repository to check the work out")
        self.command.setFont(QGuiApplication.font())
        self.copy = QToolButton(self)
        self.copy.setObjectName("hand_back_copy")
        self.copy.setText("Copy")
        self.copy.setToolTip("Copy the command")
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.command.text()))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.command, 1)
        row.addWidget(self.copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(4)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.clear()

    def clear(self) -> None:
        self.say("")

    def say(self, text: str, *, error: bool = False, command: str = "") -> None:
        self.message.setText(text)
        # A result the user acts on reads as text; "Handing back…" and the like, dimmed.
        colour = ERROR_TEXT if error else "palette(text)" if command else DIM_TEXT
        self.message.setStyleSheet(f"color: {colour};")
        self.command.setText(command)
        for widget in (self.command, self.copy):
            widget.setVisible(bool(command))
        self.setVisible(bool(text or command))


class HandBackControls(QObject):
    """The two buttons (the tabs' corner widget) and what they start."""

    def __init__(
        self,
        window: QWidget,
        conversations: OpenConversations,
        checkpoints: CheckpointControls,
        tabs: QTabWidget,
    ) -> None:
        super().__init__(window)
        changes_view = checkpoints.changes_view
        checkpoints.list_patch = self.list_patch
        self._window = window
        self._conversations = conversations
        self._changes = changes_view
        self._tabs = tabs
        self._background = Background(self)
        # What each conversation's last hand-back said, shown again when it is shown again.
        self._said: dict[str, tuple[str, bool, str]] = {}
        self._busy: set[str] = set()
        self.patch_dialog: QFileDialog | None = None

        corner = QWidget(tabs)
        corner.setObjectName("hand_back_buttons")
        self.corner = corner
        self.hand_back_button = QPushButton("Hand back as branch", corner)
        self.hand_back_button.setObjectName("hand_back")
        self.hand_back_button.clicked.connect(self.hand_back)
        self.save_patch_button = QPushButton("Save patch\N{HORIZONTAL ELLIPSIS}", corner)
        self.save_patch_button.setObjectName("save_patch")
        self.save_patch_button.clicked.connect(self.save_patch)
        row = QHBoxLayout(corner)
        row.setContentsMargins(0, 0, 2, 2)
        row.setSpacing(6)
        for button in (self.hand_back_button, self.save_patch_button):
            button.setFlat(False)
            button.setAutoDefault(False)
            row.addWidget(button)
        tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)
        self.result = HandBackResult(changes_view)
        changes_view.add_above(self.result)

        conversations.current_changed.connect(lambda _b: self.update())
        conversations.opened.connect(lambda _c, _r: self.update())
        self.update()

    # -- state ----------------------------------------------------------------------------------

    def _shown(self) -> tuple[SessionBridge, Conversation | None]:
        bridge = self._conversations.current
        return bridge, bridge.conversation

    def update(self) -> None:
        bridge, conversation = self._shown()
        repo = repository_of(conversation)
        busy = bridge.conversation_id in self._busy
        self._changes.set_git(repo is not None)
        # Only for a copy of a repository (or one about to start): elsewhere they would
        # only crowd the Files, Changes and Network tabs out of a narrow panel.
        self.corner.setVisible(repo is not None or bridge.repo is not None)
        for button in (self.hand_back_button, self.save_patch_button):
            button.setEnabled(repo is not None and not busy)
        if conversation is None:
            why = NOT_STARTED if bridge.repo is None else NOT_STARTED + " " + bridge.repo
            tips = (why, why)
        elif repo is None:
            tips = (NOT_GIT, NOT_GIT)
        else:
            branch = branch_of(conversation) or "its branch"
            tips = (
                f"Put the agent's commits, and its uncommitted work as a last commit, in "
                f"{repo} as the branch {branch}. Your working tree, index and current "
                "branch are left as they are.",
                "Save the whole change since the starting commit as a patch file "
                "(git apply it anywhere)",
            )
        self.hand_back_button.setToolTip(tips[0])
        self.save_patch_button.setToolTip(tips[1])
        said = self._said.get(bridge.conversation_id or "")
        if said is None:
            self.result.clear()
        else:
            self.result.say(said[0], error=said[1], command=said[2])

    def _say(
        self, conversation_id: str, text: str, *, error: bool = False, command: str = ""
    ) -> None:
        self._said[conversation_id] = (text, error, command)
        if self._conversations.current.conversation_id == conversation_id:
            self.result.say(text, error=error, command=command)

    # -- hand back ------------------------------------------------------------------------------

    def hand_back(self) -> None:
        _bridge, conversation = self._shown()
        repo = repository_of(conversation)
        if conversation is None or repo is None:
            return
        cid = conversation.id
        self._busy.add(cid)
        self._say(cid, f"Handing the work back to {repo}\N{HORIZONTAL ELLIPSIS}")
        self._tabs.setCurrentWidget(self._changes)
        self.update()

        def done(branch: str) -> None:
            self._busy.discard(cid)
            self._say(
                cid,
                f"Handed back as the branch {branch}. To check it out in {repo}:",
                command=f"git switch {branch}",
            )
            self.update()

        def failed(message: str) -> None:
            self._busy.discard(cid)
            self._say(cid, f"Could not hand back: {first_line(message, 400)}", error=True)
            self.update()

        self._background.run(conversation.hand_back, done, failed, name="hand-back")

    # -- the patch ------------------------------------------------------------------------------

    def save_patch(self) -> None:
        _bridge, conversation = self._shown()
        repo = repository_of(conversation)
        if conversation is None or repo is None:
            return
        name = (branch_of(conversation) or "berth").replace("/", "-") + ".patch"
        dialog = QFileDialog(self._window, "Save patch", str(Path.home() / name))
        dialog.setObjectName("save_patch_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["Patches (*.patch *.diff)", "All files (*)"])
        dialog.setDefaultSuffix("patch")
        dialog.fileSelected.connect(lambda path: self.write_patch(conversation, path))
        self.patch_dialog = dialog
        dialog.open()

    def write_patch(self, conversation: Conversation, path: str) -> None:
        """Write ``conversation.patch()`` to ``path`` (off the GUI thread)."""
        cid = conversation.id

        def work() -> int:
            text = conversation.patch()
            Path(path).write_text(text, encoding="utf-8")
            return text.count("\ndiff --git ") + text.startswith("diff --git ")

        def done(files: int) -> None:
            what = "no change" if not files else f"{files} file{'s' if files != 1 else ''}"
            self._say(cid, f"Saved the patch ({what}) to {path}.")

        def failed(message: str) -> None:
            self._say(cid, f"Could not save the patch: {first_line(message, 400)}", error=True)

        self._background.run(work, done, failed, name="save-patch")

    def list_patch(self) -> None:
        """The Changes view's comparison with the starting commit, from ``patch()``."""
        # Imported here, on the GUI thread (not at start: it loads the Docker SDK).
        from agent.conversation.patch_files import split_patch

        conversation = self._conversations.current.conversation
        if conversation is None or repository_of(conversation) is None:
            self._changes.set_changes([])
            return

        def done(changes: list) -> None:
            shown = self._conversations.current.conversation
            if shown is conversation and self._changes.since_checkpoint() == STARTING_COMMIT:
                self._changes.set_changes(changes)

        self._background.run(
            lambda: split_patch(conversation.patch()),
            done,
            self._changes.set_error,
            name="patch-changes",
        )
