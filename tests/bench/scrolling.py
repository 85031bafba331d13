"""Dragging a list view's scroll bar end to end, painting each position: how a user skims."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QApplication, QListView

DRAG_STEPS = 100


def drag_end_to_end(view: QListView, app: QApplication) -> tuple[float, float]:
    """Move the thumb from top to bottom in DRAG_STEPS moves; returns (total s, worst step ms)."""
    bar = view.verticalScrollBar()
    bar.setValue(0)
    app.processEvents()
    worst = 0.0
    started = time.perf_counter()
    for step in range(DRAG_STEPS + 1):
        t = time.perf_counter()
        bar.setValue(round(bar.maximum() * step / DRAG_STEPS))
        view.viewport().repaint()
        app.processEvents()
        worst = max(worst, time.perf_counter() - t)
    return time.perf_counter() - started, worst * 1000
