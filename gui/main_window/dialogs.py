"""The window's two questions, as window-modal boxes that block nothing: the Docker engine
cannot be reached (Retry), and agents are at work at quit (Pause All and Quit)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget


def engine_unreachable_dialog(
    parent: QWidget, message: str, *, on_retry: Callable[[], object]
) -> QMessageBox:
    """Say what to do; Retry calls ``on_retry``. Not yet open: the caller opens it."""
    box = QMessageBox(parent)
    box.setObjectName("engine_unreachable_dialog")
    box.setWindowTitle("Docker engine not reachable")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setText("Berth cannot reach the Docker engine, so the container cannot start.")
    box.setInformativeText(
        f"{message}\n\nYour message is kept: Retry sends it once the engine answers."
    )
    box.setStandardButtons(QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Close)
    box.setDefaultButton(QMessageBox.StandardButton.Retry)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(button: QAbstractButton) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Retry:
            on_retry()

    box.buttonClicked.connect(answered)
    return box


def quit_dialog(parent: QWidget, running: int, *, on_pause_all: Callable[[], None]) -> QMessageBox:
    """Offer Pause All and Quit (``on_pause_all``) or to stay. Not yet open."""
    box = QMessageBox(parent)
    box.setObjectName("quit_dialog")
    box.setWindowTitle("Agents are at work")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(
        f"{running} conversation{'s are' if running != 1 else ' is'} running. Pause all and quit?"
    )
    box.setInformativeText(
        "They come back paused when you start Berth again, and resume where they "
        "were. A command still running when you quit is ended, and the agent is told."
    )
    pause = box.addButton("Pause All and Quit", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(pause)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(button: QAbstractButton) -> None:
        if button is pause:
            on_pause_all()

    box.buttonClicked.connect(answered)
    return box
