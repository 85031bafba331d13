"""A burst of notices from a session's thread reaches the window in order without holding
its event loop: between slices of the burst, the window's timers fire (and it repaints)."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QTimer

from agent import notices as n
from gui.sessions.session_bridge import SessionBridge
from gui.settings.app_settings import AppSettings


def test_a_burst_of_notices_arrives_in_order_and_lets_the_timers_fire(qtbot, tmp_path) -> None:
    bridge = SessionBridge(AppSettings(llm_model="openai/x"), persistence_dir=tmp_path)
    got: list[int] = []
    ticks_during: list[int] = []

    def slow_view(count: int) -> None:  # a view that takes a millisecond per notice
        got.append(count)
        time.sleep(0.001)

    bridge.queued_changed.connect(slow_view)
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks_during.append(len(got)) if 0 < len(got) < 300 else None)
    timer.start()

    sender = threading.Thread(
        target=lambda: [bridge._post(n.QueuedChanged(count=i)) for i in range(300)]
    )
    sender.start()
    sender.join()
    qtbot.waitUntil(lambda: len(got) == 300, timeout=10_000)
    timer.stop()
    assert got == list(range(300))
    # 300 ms of handling: delivered in one pass, no tick would land while it ran.
    assert len(ticks_during) >= 5, ticks_during

    bridge.close()
    assert bridge.wait_closed(10)
    qtbot.waitUntil(lambda: bridge.is_closed, timeout=5_000)
