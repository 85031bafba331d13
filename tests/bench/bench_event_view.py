"""Event view figures at 10,000 events, against a plain QListView of strings (baseline).

    make bench   (or: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s -p no:randomly
                  -o python_files='bench_*.py' tests/bench/bench_event_view.py)

Load: ``set_events`` plus the first paint. Scroll: the thumb dragged top to bottom in 100
steps, painting each. Append: one new event at 10,000 rows, laid out and painted (the view
follows it). Output chunk: one streamed chunk into the running command at 10,000 rows.
Resize: a width change at 10,000 rows, laid out and painted. Goal: load + scroll < 1 s.
"""

from __future__ import annotations

import statistics
import time

from PySide6.QtCore import QStringListModel
from PySide6.QtWidgets import QApplication, QListView

from agent.events import ActionEvent, MessageEvent
from gui.event_view import EventView
from tests.bench.scrolling import DRAG_STEPS, drag_end_to_end
from tests.support.event_demo import mixed_events

EVENTS = 10_000
GOAL_S = 1.0


def _timed(action, view: QListView, app: QApplication) -> float:
    started = time.perf_counter()
    action()
    app.processEvents()
    view.viewport().repaint()
    return (time.perf_counter() - started) * 1000


def test_event_view_at_ten_thousand_events(qtbot) -> None:
    app = QApplication.instance()
    events = mixed_events(EVENTS)

    view = EventView()
    qtbot.addWidget(view)
    view.resize(800, 900)
    view.show()
    qtbot.waitExposed(view)
    started = time.perf_counter()
    view.model().set_events(events)
    view.viewport().repaint()
    app.processEvents()
    load = time.perf_counter() - started
    # The idle pass measures estimated heights in slices; how long until all are exact
    # (the view stays responsive meanwhile: it works in slices of a few ms).
    started = time.perf_counter()
    qtbot.waitUntil(lambda: not view._measure_timer.isActive(), timeout=30_000)
    measured = time.perf_counter() - started
    scroll, worst = drag_end_to_end(view, app)

    view.scroll_to_end()
    app.processEvents()
    model = view.model()
    appends = [
        _timed(
            lambda i=i: model.append_event(
                MessageEvent(role="assistant", text=f"Step {i}: **done**, see `log.txt`.")
            ),
            view,
            app,
        )
        for i in range(10)
    ]
    model.append_event(
        ActionEvent(tool_call_id="live", tool_name="bash", arguments={"command": "make"})
    )
    app.processEvents()
    for i in range(30):
        model.append_output("live", f"building target {i}\n")
    qtbot.wait(100)

    def one_chunk(i: int) -> None:
        model.append_output("live", f"building target {i}\n")
        model._flush_output()  # the 50 ms coalescing timer's work, done now to time it

    chunks = [_timed(lambda i=i: one_chunk(i), view, app) for i in range(10)]
    resize = _timed(lambda: view.resize(700, 900), view, app)
    rows = model.rowCount()

    baseline = QListView()
    qtbot.addWidget(baseline)
    baseline.resize(view.size())
    baseline.show()
    qtbot.waitExposed(baseline)
    strings = [f"event {i}: " + "x" * (i % 60) for i in range(EVENTS)]
    started = time.perf_counter()
    base_model = QStringListModel(strings)
    baseline.setModel(base_model)
    baseline.viewport().repaint()
    app.processEvents()
    base_load = time.perf_counter() - started
    base_scroll, base_worst = drag_end_to_end(baseline, app)
    base_append = statistics.median(
        _timed(
            lambda: (
                base_model.insertRows(base_model.rowCount(), 1),
                baseline.scrollToBottom(),
            ),
            baseline,
            app,
        )
        for _ in range(10)
    )

    total, base_total = load + scroll, base_load + base_scroll
    figures = [
        (f"load {EVENTS:,} events ({rows:,} rows) + first paint", load * 1000, base_load * 1000),
        (
            f"drag scroll bar end to end, {DRAG_STEPS} painted steps",
            scroll * 1000,
            base_scroll * 1000,
        ),
        ("  worst step", worst, base_worst),
        ("load + scroll (goal < 1000 ms)", total * 1000, base_total * 1000),
        ("idle measuring of estimated heights", measured * 1000, None),
        ("append one event at 10,000 rows (median)", statistics.median(appends), base_append),
        ("  worst append", max(appends), None),
        ("one output chunk at 10,000 rows (median)", statistics.median(chunks), None),
        ("width change at 10,000 rows", resize, None),
    ]
    print(f"\n== event view at {EVENTS:,} events (offscreen) ==")
    print(f"{'':52} {'EventView':>10} {'baseline':>10} {'ratio':>7}")
    for name, value, base in figures:
        ratio = f"{value / base:6.1f}x" if base else ""
        base_text = f"{base:8.1f}ms" if base is not None else ""
        print(f"{name:52} {value:8.1f}ms {base_text:>10} {ratio:>7}")
    print("baseline: QListView over a QStringListModel of one-line strings")
    assert total < GOAL_S * 5, "far off the goal"
