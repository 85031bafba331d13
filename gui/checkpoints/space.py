"""The Settings dialog's Checkpoints box: the disk space checkpoints use, and pruning.

Both ask the store (a helper container), so they run in the background (gui.background)
and report back on the GUI thread: the dialog never waits on Docker.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QWidget

from gui.background import Background, first_line

# The store's modules are imported here, on the GUI thread, when the dialog module loads:
# importing them on the worker thread while Qt collects garbage here crashes shiboken.
from sandbox.checkpoints.space import (
    NotMeasured,
    helper_image_status,
    measure_store,
    prune_store,
)

# Each conversation keeps its first checkpoint (the workspace as it was found) and these.
KEEP_LAST = 20


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} TB"


_NOT_MEASURED = {
    # Nothing to measure, or no helper yet: say so rather than start (or build) anything.
    NotMeasured.NO_STORE: "No checkpoints yet.",
    NotMeasured.NO_HELPER: "Checkpoints are measured once their helper image is built (first run).",
}


def _usage_text() -> str:
    helper = helper_image_status()
    if not helper.present:
        # Said here too, not only once in a conversation: the user can fix it from Settings.
        return (
            f"Checkpoints are off: their helper image {helper.tag} is missing. "
            f"Build it offline with:\n{helper.build_command}"
        )
    usage = measure_store()
    if isinstance(usage, NotMeasured):
        return _NOT_MEASURED[usage]
    return f"Checkpoints use {_size(usage.bytes)} ({usage.objects:,} stored contents)."


def _prune_text() -> str:
    pruned = prune_store(KEEP_LAST)
    return f"Freed {_size(pruned.freed)}; checkpoints now use {_size(pruned.usage.bytes)}."


class CheckpointSpaceBox(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Checkpoints", parent)
        self.setObjectName("checkpoint_box")
        self.space_label = QLabel(
            "Measuring the space checkpoints use\N{HORIZONTAL ELLIPSIS}", self
        )
        self.space_label.setObjectName("checkpoint_space")
        self.space_label.setWordWrap(True)
        # The build command, when it shows, is there to be copied.
        self.space_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prune_button = QPushButton("Prune old checkpoints", self)
        self.prune_button.setObjectName("prune_checkpoints")
        self.prune_button.setToolTip(
            f"Each conversation keeps its first checkpoint and its newest {KEEP_LAST}; "
            "content no checkpoint needs is removed"
        )
        self.prune_button.clicked.connect(self.prune)
        self._background = Background(self)
        layout = QHBoxLayout(self)
        layout.addWidget(self.space_label, 1)
        layout.addWidget(self.prune_button)
        self._start(_usage_text)

    @property
    def busy(self) -> bool:
        return not self.prune_button.isEnabled()

    def prune(self) -> None:
        self.space_label.setText("Pruning\N{HORIZONTAL ELLIPSIS}")
        self._start(_prune_text)

    def _start(self, work: Callable[[], str]) -> None:
        self.prune_button.setEnabled(False)
        self._background.run(work, self._done, self._failed, name="checkpoint-store")

    def _failed(self, message: str) -> None:
        self._done(f"Could not reach the checkpoint store: {first_line(message)}")

    def _done(self, text: str) -> None:
        self.space_label.setText(text)
        self.prune_button.setEnabled(True)
