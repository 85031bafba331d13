"""The "Latest" button: shown over the event list while the user has scrolled up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QToolButton

from gui.event_view.colors import EventColors


class JumpToLatestButton(QToolButton):
    MARGIN = 14

    def __init__(self, area: QAbstractScrollArea) -> None:
        super().__init__(area.viewport())
        self._area = area
        self.setObjectName("event_view_jump")
        self.setText("\N{DOWNWARDS ARROW}  Latest")
        self.setToolTip("Scroll to the newest events and follow them again (End)")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.restyle()
        self.hide()

    def restyle(self) -> None:
        colors = EventColors.from_palette(self._area.palette())
        accent = colors.selection
        text = self._area.palette().color(QPalette.ColorRole.HighlightedText)
        self.setStyleSheet(
            "QToolButton {"
            f" background: {accent.name()}; color: {text.name()}; border: none;"
            " border-radius: 13px; padding: 5px 12px; font-weight: 600; }"
            f"QToolButton:hover {{ background: {accent.lighter(112).name()}; }}"
        )

    def place(self) -> None:
        self.adjustSize()
        viewport = self._area.viewport()
        self.move(
            viewport.width() - self.width() - self.MARGIN - 8,
            viewport.height() - self.height() - self.MARGIN,
        )
