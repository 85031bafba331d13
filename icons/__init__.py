"""SVG icons for the app and its toolbar actions, shipped as package data."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# The app icon first, then one per action or item the window shows.
ICON_NAMES = (
    "app",
    "new",
    "send",
    "pause",
    "resume",
    "stop",
    "settings",
    "upload",
    "download",
    "refresh",
    "folder",
    "file",
)


def icon_path(name: str) -> Path:
    """Path of ``icons/NAME.svg``; raises FileNotFoundError for an unknown name."""
    path = Path(str(files(__name__) / f"{name}.svg"))
    if not path.is_file():
        raise FileNotFoundError(f"no icon named {name!r} at {path}")
    return path
