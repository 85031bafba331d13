"""The app launched as ``berth`` launches it, until its window's first paint is done. Run by
bench_launch.py in a fresh interpreter, never collected as a test:

    python -m tests.bench.launch_probe [--bare]

Prints one JSON line, ``LaunchFigures``: ``time.monotonic()`` (one clock for every process
on Linux, so the parent can count the interpreter's own start-up) when the first paint of
the window ended, and whether the background preload had already started by then.
``--bare``: a bare QMainWindow of the same size instead, the baseline.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from pydantic import BaseModel
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget


class LaunchFigures(BaseModel):
    painted_at: float  # time.monotonic()
    preload_started_before: bool


class FirstPaint(QObject):
    """Notes when the first paint of a top-level window of ``kind`` has ended (an
    application-wide event filter, removed once it has seen it), then calls ``then``."""

    def __init__(self, app: QApplication, kind: type[QWidget], then) -> None:
        super().__init__()
        self.app = app
        self.kind = kind
        self.then = then
        self.window: QWidget | None = None
        self.painted_at: float | None = None
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            self.window is None
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and isinstance(watched.window(), self.kind)
        ):
            self.window = watched.window()
            # Posted now, run once the paint in progress (every widget's) is done.
            QTimer.singleShot(0, self._painted)
        return False

    def _painted(self) -> None:
        self.painted_at = time.monotonic()
        self.app.removeEventFilter(self)
        self.then(self)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bare", action="store_true")
    args = parser.parse_args(argv)

    def painted(probe: FirstPaint) -> None:
        preloading = any(t.name == "berth-preload" for t in threading.enumerate())
        figures = LaunchFigures(
            painted_at=probe.painted_at or 0.0, preload_started_before=preloading
        )
        print(figures.model_dump_json(), flush=True)
        if probe.window is not None:
            probe.window.close()
        probe.app.quit()

    if args.bare:
        app = QApplication([])
        probe = FirstPaint(app, QMainWindow, painted)
        window = QMainWindow()
        window.resize(1320, 820)
        window.show()
        app.exec()
    else:
        from gui.app import make_application, run_app
        from gui.main_window import MainWindow

        # run_app takes this application as its own; MainWindow is imported here only to
        # be named: the import is part of the launch either way.
        app = make_application([])
        probe = FirstPaint(app, MainWindow, painted)
        run_app([])
    return 0 if probe.painted_at else 1


if __name__ == "__main__":
    sys.exit(main())
