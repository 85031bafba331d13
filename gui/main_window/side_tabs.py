"""The panel right of the stream: the container's files, what the agent changed, and what
it reached over the network, as tabs."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QTabWidget, QVBoxLayout, QWidget

from gui.checkpoints.changes_view import ChangesView
from gui.file_browser import FileBrowser
from gui.network.view import NetworkView


class SidePanel(QFrame):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.file_browser = FileBrowser(parent)
        self.changes_view = ChangesView(parent)
        self.network_view = NetworkView(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("side_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.file_browser, "Files")
        self.tabs.addTab(self.changes_view, "Changes")
        self.tabs.addTab(self.network_view, "Network")
        layout.addWidget(self.tabs)
