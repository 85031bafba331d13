"""The Settings dialog's Leftovers box: this installation's containers and volumes whose
conversation is gone, and a button to remove them.

Listing and removing ask the engine, so both run in the background (gui.background); the
dialog never waits on Docker.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# Imported on the GUI thread when the dialog module loads (see gui.checkpoints.space).
import sandbox.leftovers
from agent.conversation.deletion import find_leftovers
from gui.background import Background, first_line
from sandbox.leftovers import Leftover


def _describe(item: Leftover) -> str:
    parts = [f"container {name}" for name in item.containers]
    parts += [f"volume {name}" for name in item.volumes]
    return f"{item.conversation_id[:12]}: " + ", ".join(parts)


def _remove_and_list(items: list[Leftover]) -> list[Leftover]:
    sandbox.leftovers.remove_leftovers(items)
    return find_leftovers()


class LeftoversBox(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Leftovers", parent)
        self.setObjectName("leftovers_box")
        self.summary_label = QLabel("Looking for leftovers\N{HORIZONTAL ELLIPSIS}", self)
        self.summary_label.setObjectName("leftovers_summary")
        self.leftovers_list = QListWidget(self)
        self.leftovers_list.setObjectName("leftovers_list")
        self.leftovers_list.setMaximumHeight(72)
        self.leftovers_list.hide()
        self.remove_button = QPushButton("Remove leftovers", self)
        self.remove_button.setObjectName("remove_leftovers")
        self.remove_button.setToolTip(
            "Remove the containers and volumes listed: their conversations were deleted, "
            "so nothing in Berth uses them"
        )
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove)
        self._items: list[Leftover] = []
        self._working = True
        self._background = Background(self)
        row = QHBoxLayout()
        row.addWidget(self.summary_label, 1)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.leftovers_list)
        self._background.run(find_leftovers, self._listed, self._failed, name="leftovers")

    @property
    def busy(self) -> bool:
        return self._working

    def items(self) -> list[Leftover]:
        return list(self._items)

    def remove(self) -> None:
        if not self._items:
            return
        self._working = True
        self.remove_button.setEnabled(False)
        self.summary_label.setText("Removing leftovers\N{HORIZONTAL ELLIPSIS}")
        items = list(self._items)
        self._background.run(
            lambda: _remove_and_list(items), self._listed, self._failed, name="leftovers"
        )

    def _listed(self, items: list[Leftover]) -> None:
        self._working = False
        self._items = items
        self.leftovers_list.clear()
        self.leftovers_list.addItems([_describe(item) for item in items])
        self.leftovers_list.setVisible(bool(items))
        self._grow_window()
        self.remove_button.setEnabled(bool(items))
        if items:
            count = len(items)
            self.summary_label.setText(
                f"{count} deleted conversation{'s' if count != 1 else ''} left these on "
                "the Docker engine:"
            )
        else:
            self.summary_label.setText(
                "No leftovers: every container and volume belongs to a conversation."
            )

    def _failed(self, message: str) -> None:
        self._working = False
        self.summary_label.setText(f"Could not look for leftovers: {first_line(message)}")
        self.remove_button.setEnabled(bool(self._items))

    def _grow_window(self) -> None:
        # A list shown after the dialog took its size would squeeze every row above it.
        window = self.window()
        layout = window.layout()
        if layout is not None:
            layout.activate()
        wanted = window.sizeHint().height()
        if window.isVisible() and window.height() < wanted:
            window.resize(window.width(), wanted)
