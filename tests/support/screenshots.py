"""What the docs/ screenshot scripts share: waiting on the window, and saving the picture
then cleaning up (the conversation's container and volume go with it)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtTest import QTest


def wait(window, predicate: Callable[[], bool], ms: int = 120_000) -> None:
    for _ in range(ms // 50):
        if predicate():
            return
        QTest.qWait(50)
    raise SystemExit(f"timed out; status={window.status_label.text()}")


def save_and_close(window, default_path: str, server=None) -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else default_path
    window.grab().save(out)
    print("saved", out)
    close_and_clean(window, server)


def close_and_clean(window, server=None) -> None:
    """Close the window; its conversation goes, with its container and volume."""
    conversation = window.session.conversation
    window.shutdown()
    window.close()
    if conversation is not None:
        conversation.delete(remove_container=True)
    if server is not None:
        server.stop()
