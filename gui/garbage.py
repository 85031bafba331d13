"""Python's cyclic garbage collector runs on the GUI thread, from the event loop, only.

CPython collects in whichever thread's allocation crosses its threshold: a background pool
worker parsing a JSON file, an agent loop's thread. A Qt object that only a reference cycle
keeps (a window dropped while lambdas it connected still refer to it, a method's frame held
by an exception's traceback) is then deleted there: off the GUI thread, or while the GUI
thread paints one of its children, and the process crashes. So automatic collection is off
while the collector runs, and a GUI-thread timer collects instead, between events, as often
as the interpreter's own thresholds would have.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Made on the GUI thread; ``start()`` moves collection there, ``stop()`` gives it back."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.setObjectName("berth-gui-thread-collector")
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Collect what is left here, then let the interpreter collect by itself again."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect(self) -> int:
        """The oldest generation whose count passed its threshold, as the interpreter picks
        it; nothing when none did. Returns the number of objects found unreachable."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for index in range(3):
            if thresholds[index] and counts[index] > thresholds[index]:
                generation = index
        return gc.collect(generation) if generation >= 0 else 0


def collect_on_the_gui_thread(app: QObject) -> GuiThreadCollector:
    """Pin collection to ``app``'s thread for as long as the app lives."""
    collector = GuiThreadCollector(app)
    collector.start()
    return collector
