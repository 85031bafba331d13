"""The main window and its parts: toolbar actions, composer, confirmation bar, error
banner, status bar, and the failures a user can act on (after qutebrowser's mainwindow/).

``MainWindow`` is imported on first use, so that importing a part (``actions.load_icon``
for the application's icon) does not load the whole window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gui.main_window.window import MainWindow

__all__ = ["MainWindow"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from gui.main_window.window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'gui.main_window' has no attribute {name!r}")
