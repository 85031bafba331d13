"""A burst of notices from a session's thread reaches the window in order. (That the
window's timers fire between slices of the burst is measured by
tests/bench/bench_heartbeat.py.)"""

from __future__ import annotations

import threading
import time

from agent.session import notices as n
from gui.sessions.session_bridge import SessionBridge
from gui.settings.app_settings import AppSettings


def test_a_burst_of_notices_arrives_in_order(qtbot, tmp_path) -> None:
    bridge = SessionBridge(AppSettings(llm_model="openai/x"), persistence_dir=tmp_path)
    got: list[int] = []

    def slow_view(count: int) -> None:  # a view that takes a millisecond per notice
        got.append(count)
        time.sleep(0.001)

    bridge.queued_changed.connect(slow_view)

    sender = threading.Thread(
        target=lambda: [bridge._post(n.QueuedChanged(count=i)) for i in range(300)]
    )
    sender.start()
    sender.join()
    qtbot.waitUntil(lambda: len(got) == 300, timeout=10_000)
    assert got == list(range(300))

    bridge.close()
    assert bridge.wait_closed(10)
    qtbot.waitUntil(lambda: bridge.is_closed, timeout=5_000)
