"""The history's refreshes during a burst: one listing in flight (gui.background.Coalesced)
against the former way, a thread per refresh, measured in the same run on the same folders.

A burst is what a busy window asks: a refresh every 5 ms (each user message, each run's
end, in three conversations at once), 30 times, over 300 saved conversations. Reported: the
listings that ran, the worst gap of a 5 ms GUI-thread heartbeat, and the time until the
list shows the last state.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s -o python_files='bench_*.py' \
        tests/bench/bench_history.py
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal

from agent.conversation.persistence import ConversationStore, list_conversations
from agent.conversation.state import ConversationSummary, PersistedState
from agent.status import AgentStatus
from gui.history.panel import HistoryPanel
from tests.bench.bench_gui import _Heartbeat, _table

SAVED = 300
BURST = 30
BURST_GAP_MS = 5


class _ThreadPerRefresh(QObject):
    """The former HistoryPanel.refresh: a new thread lists on every call."""

    listed = Signal(int, list)

    def __init__(self, root: Path, show: Callable[[list[ConversationSummary]], None]) -> None:
        super().__init__()
        self._root = root
        self._requests = 0
        self.runs = 0
        self._show = show
        self.listed.connect(self._on_listed, Qt.ConnectionType.QueuedConnection)

    def refresh(self) -> None:
        self._requests += 1
        number = self._requests

        def work() -> None:
            self.runs += 1
            self.listed.emit(number, list_conversations(self._root))

        threading.Thread(target=work, daemon=True).start()

    def _on_listed(self, number: int, items: list[ConversationSummary]) -> None:
        if number == self._requests:
            self._show(items)


def _save_many(root: Path) -> None:
    for n in range(SAVED):
        store = ConversationStore(root / f"c{n:04d}")
        store.create()
        store.save_state(
            PersistedState(id=f"c{n:04d}", title=f"Task {n}", agent_status=AgentStatus.FINISHED)
        )


def _burst(qtbot, refresh: Callable[[], None], done: Callable[[], bool]) -> tuple[float, float]:
    beat = _Heartbeat()
    beat.start()
    started = time.perf_counter()
    for _ in range(BURST):
        refresh()
        qtbot.wait(BURST_GAP_MS)
    qtbot.waitUntil(done, timeout=120_000)
    took = time.perf_counter() - started
    qtbot.wait(50)
    beat.stop()
    worst, _p99, _ticks = beat.summary()
    return worst, took


def test_history_refreshes_during_a_burst(qtbot, tmp_path: Path) -> None:
    root = tmp_path / "conversations"
    _save_many(root)
    list_conversations(root)  # warm: pydantic's validators, the page cache

    idle = _Heartbeat()
    idle.start()
    qtbot.wait(BURST * BURST_GAP_MS)
    idle.stop()
    idle_worst, _, _ = idle.summary()

    shown: list[int] = []
    old = _ThreadPerRefresh(root, lambda items: shown.append(len(items)))
    old_worst, old_took = _burst(qtbot, old.refresh, lambda: old.runs == BURST and bool(shown))
    qtbot.wait(500)  # the last threads' results

    panel = HistoryPanel(root)
    qtbot.addWidget(panel)
    panel.show()
    runs = 0
    real = panel._listing._start

    def counted(work: Callable[[], list[ConversationSummary]]) -> None:
        nonlocal runs
        runs += 1
        real(work)

    panel._listing._start = counted  # type: ignore[method-assign]
    new_worst, new_took = _burst(
        qtbot, panel.refresh, lambda: not panel.refreshing and len(panel.ids()) == SAVED
    )

    _table(
        f"History: {BURST} refreshes, one every {BURST_GAP_MS} ms, over {SAVED} conversations",
        [
            ("listings run, a thread per refresh (before)", f"{old.runs:7d}"),
            ("listings run, coalesced (now)", f"{runs:7d}"),
            ("worst GUI gap, before", f"{old_worst:7.1f} ms"),
            ("worst GUI gap, now", f"{new_worst:7.1f} ms"),
            ("worst GUI gap, idle (baseline)", f"{idle_worst:7.1f} ms"),
            ("burst to last listing shown, before", f"{old_took:7.2f} s"),
            ("burst to last listing shown, now", f"{new_took:7.2f} s"),
            ("ratio of listings now/before", f"{runs / max(old.runs, 1):7.2f} x"),
        ],
    )
    assert runs < BURST
