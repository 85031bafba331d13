"""``run_app``: the QApplication, its icon and theme, and the main window."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

APP_ID = "berth"


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (made once), named and themed, with Berth's icon."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication([sys.argv[0] if sys.argv else "berth", *(argv or [])])
    app.setApplicationName("Berth")
    app.setApplicationDisplayName("Berth")
    app.setOrganizationName("Berth")
    app.setDesktopFileName(APP_ID)

    from gui.garbage import collect_on_the_gui_thread
    from gui.main_window.actions import load_icon
    from gui.theme import apply_theme

    apply_theme(app)
    app.setWindowIcon(load_icon("app"))
    # Qt objects freed by the cyclic collector must be freed on this thread, between events.
    collect_on_the_gui_thread(app)
    return app


def run_app(argv: list[str] | None = None) -> int:
    """Show the main window and run the event loop; returns the exit code."""
    app = make_application(argv)
    from agent.llm.process import use_helper_process
    from gui.main_window import MainWindow

    # litellm runs in a process of its own: its import and its calls never hold this
    # process's GIL, so the window's thread never waits on them (agent/llm_process.py).
    # Started now, its seconds of import go on beside the window's construction.
    use_helper_process().start()

    window = MainWindow()
    # Quitting by any road (the window's close button, a session logout) pauses the agent
    # and stops its container first; shutdown() does nothing the second time.
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    code = app.exec()
    return _after_the_loop(code)


def _after_the_loop(code: int) -> int:
    """Every session loop ends before the interpreter does: one still running when Python
    tears the window down would make Qt abort the process (a crash report on a clean quit).
    One that does not end in time (the engine hangs) is logged and the process leaves
    without tearing anything down; its history is on disk already."""
    import logging

    from gui.sessions.session_bridge import end_all_sessions

    left = end_all_sessions()
    if not left:
        return code
    log = logging.getLogger(__name__)
    log.error("conversations still closing at exit, left as they are: %s", "; ".join(left))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
