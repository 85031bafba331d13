"""Berth's Qt front end: the only layer that imports PySide6.

``gui.MainWindow`` is the whole window (DESIGN.md). It is imported on first use, not with
the package, so that ``import gui.app`` and ``berth --self-test`` stay quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gui.main_window import MainWindow

__all__ = ["MainWindow"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from gui.main_window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'gui' has no attribute {name!r}")
