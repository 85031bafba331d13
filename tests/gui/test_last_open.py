"""Where the user left off is written off the GUI thread, and the latest asked is what stays
on disk, even when an earlier write runs last."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from gui.background import Background
from gui.history.panel import LastOpenWriter, load_last_open, load_open_ids


def test_the_latest_asked_is_what_stays_on_disk(qtbot, tmp_path: Path) -> None:
    owner = QObject()
    writer = LastOpenWriter(Background(owner), tmp_path / "history")
    for conversation_id in ("first", "second", "third"):
        writer.save_soon(conversation_id)
    writer.flush()
    qtbot.waitUntil(lambda: load_last_open(tmp_path / "history") == "third", timeout=5_000)

    writer.save_soon("shown-before-quit")  # may still be in flight at quit
    writer.save_now("at-quit", ["at-quit", "other"])
    assert load_last_open(tmp_path / "history") == "at-quit"  # before save_now returned
    writer.flush()
    qtbot.wait(100)
    assert load_last_open(tmp_path / "history") == "at-quit"
    assert load_open_ids(tmp_path / "history") == ["at-quit", "other"]
