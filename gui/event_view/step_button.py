"""The small button over a hovered step that has a checkpoint: Rewind to here, Fork from here.

The same two actions are in the row's context menu; the button is for those who do not
think of right-clicking. It floats over the viewport (rows are painted, not widgets).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QMenu, QToolButton

from gui.event_view.colors import EventColors

REWIND_TEXT = "Rewind to here"
FORK_TEXT = "Fork from here"


def step_menu(parent: QMenu | None, step: int) -> QMenu:
    """The two actions for a step; the caller connects their ``triggered``."""
    menu = QMenu(parent)
    where = "the start" if step == 0 else f"step {step}"
    rewind = menu.addAction(REWIND_TEXT)
    rewind.setObjectName("action_rewind_here")
    rewind.setToolTip(f"Put /workspace back as it was at {where}; later steps are set aside")
    fork = menu.addAction(FORK_TEXT)
    fork.setObjectName("action_fork_here")
    fork.setToolTip(f"A new conversation from {where}, in a container of its own")
    return menu


class StepButton(QToolButton):
    """Shown at the top right of the step under the mouse."""

    rewind_clicked = Signal(str, int)  # checkpoint id, step
    fork_clicked = Signal(str, int)

    MARGIN = 8

    def __init__(self, area: QAbstractScrollArea) -> None:
        super().__init__(area.viewport())
        self._area = area
        self.checkpoint_id = ""
        self.step = -1
        self.setObjectName("event_view_step_button")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._menu = step_menu(None, 0)
        self.setMenu(self._menu)
        rewind, fork = self._menu.actions()
        rewind.triggered.connect(lambda: self.rewind_clicked.emit(self.checkpoint_id, self.step))
        fork.triggered.connect(lambda: self.fork_clicked.emit(self.checkpoint_id, self.step))
        self.restyle()
        self.hide()

    def restyle(self) -> None:
        colors = EventColors.from_palette(self._area.palette())
        palette = self._area.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        self.setStyleSheet(
            "QToolButton {"
            f" background: {base.name()}; color: {text.name()};"
            f" border: 1px solid {colors.selection.name()}; border-radius: 10px;"
            " padding: 2px 9px; font-size: 11px; }"
            f"QToolButton:hover {{ background: {colors.selection.name()}; color: white; }}"
            "QToolButton::menu-indicator { image: none; width: 0; }"
        )

    def show_for(self, checkpoint_id: str, step: int, row_rect: QRect) -> None:
        self.checkpoint_id, self.step = checkpoint_id, step
        label = (
            "\N{ANTICLOCKWISE OPEN CIRCLE ARROW} Start"
            if step == 0
            else f"\N{ANTICLOCKWISE OPEN CIRCLE ARROW} Step {step}"
        )
        self.setText(label)
        self.setToolTip(f"Rewind to or fork from {'the start' if step == 0 else f'step {step}'}")
        self.adjustSize()
        viewport = self._area.viewport()
        x = min(row_rect.right(), viewport.width()) - self.width() - self.MARGIN - 8
        self.move(max(0, x), row_rect.top() + 6)
        self.show()
        self.raise_()
