"""New → "Work on a copy of a git repository…": a folder picker whose choice makes the next
conversation's workspace a ``sandbox.GitWorkspace`` (the bridge's ``repo``).

Offered from the New button's menu and from the welcome page. The folder is only named
here: whether it is a repository git can copy is the workspace's to say when it starts
(a clear message in the stream, nothing written to the folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QToolBar, QToolButton, QWidget

from gui.background import Background, first_line
from gui.main_window.actions import load_icon
from gui.main_window.welcome import WelcomePage
from gui.sessions.open_conversations import OpenConversations
from gui.sessions.session_bridge import SessionBridge

if TYPE_CHECKING:
    from sandbox.git_host import HostRepository


class RepositoryChoice(QObject):
    def __init__(
        self,
        window: QWidget,
        conversations: OpenConversations,
        toolbar: QToolBar,
        action_new: QAction,
        welcome: WelcomePage,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._conversations = conversations
        self._welcome = welcome
        self._background = Background(self)
        self.dialog: QFileDialog | None = None
        action = QAction(
            load_icon("new"), "Work on a copy of a git repository\N{HORIZONTAL ELLIPSIS}", window
        )
        action.setObjectName("action_new_repo")
        action.setShortcut("Ctrl+Shift+N")
        action.setToolTip(
            "Start a new conversation on a copy of a git repository (Ctrl+Shift+N): "
            "your folder is not written until you hand the work back as a branch"
        )
        action.triggered.connect(self.ask)
        window.addAction(action)
        self.action_new_repo = action
        menu = QMenu(window)
        menu.setObjectName("new_menu")
        plain = menu.addAction(load_icon("new"), "New conversation")
        plain.triggered.connect(action_new.trigger)
        menu.addAction(action)
        button = toolbar.widgetForAction(action_new)
        if isinstance(button, QToolButton):
            button.setMenu(menu)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        welcome.repo_button.clicked.connect(self.ask)
        conversations.current_changed.connect(self._show)
        conversations.fresh_changed.connect(self._show)

    def ask(self) -> None:
        """The folder picker (window-modal, never blocking the agents)."""
        start = self._conversations.current.repo or str(Path.home())
        dialog = QFileDialog(self._window, "Choose a git repository to work on a copy of", start)
        dialog.setObjectName("repo_dialog")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.choose)
        self.dialog = dialog
        dialog.open()

    def choose(self, folder: str) -> None:
        """A fresh conversation on a copy of ``folder``'s repository, shown once git says it
        is one (off the GUI thread); it starts with its first message. A folder that is not
        (a bare repository, not a folder at all) is said on the welcome page."""
        from sandbox.git_host import inspect_repository

        self._background.run(
            lambda: inspect_repository(folder), self._chosen, self._refused, name="repo-check"
        )

    def _chosen(self, repo: HostRepository) -> None:
        bridge = self._conversations.new(repo=str(repo.top))
        self._welcome.set_repository(bridge.repo, note=" ".join(repo.notices))

    def _refused(self, message: str) -> None:
        bridge = self._conversations.new()
        self._welcome.set_repository(bridge.repo, refused=first_line(message, 400))

    def _show(self, bridge: SessionBridge) -> None:
        self._welcome.set_repository(bridge.repo if bridge.conversation is None else None)
