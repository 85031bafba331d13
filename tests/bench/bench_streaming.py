"""Streaming (issue 17), each figure against a baseline measured in the same run:

- first streamed token -> painted in the event view (goal < 50 ms), through the real
  session buffer and the bridge's queued notices; baseline: a bare queued signal from the
  same thread to a QLabel's repaint;
- a 4,000-token answer streamed into the view: the GUI thread's worst stall (a 10 ms
  heartbeat, as bench_stall.py counts; goal < 50 ms); baseline: the same heartbeat idle;
- a 2,000-token reply streamed through the LLM helper process vs litellm in-process, with
  a token callback (goal <= 10 % more), real HTTP to the scripted server.

    make bench   (or: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s -p no:randomly
                  -o python_files='bench_*.py' tests/bench/bench_streaming.py)
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel

from agent.llm.process import LLMHelper
from agent.llm.stream import StreamDelta
from gui.event_view import EventView
from gui.event_view.rows import StreamRow
from gui.sessions.session_bridge import SessionBridge
from gui.settings.app_settings import AppSettings
from tests.support.fixtures import _llm_server_session, llm_server, make_llm  # noqa: F401
from tests.support.llm_server import Reply

TOKENS = 4000
FIRST_TOKEN_RUNS = 15


def _wait(app: QApplication, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        app.processEvents()
        time.sleep(0.0005)
        assert time.monotonic() < deadline


def _streaming_view(qtbot) -> tuple[EventView, SessionBridge, dict[str, float]]:
    """A view fed by a real bridge as the window feeds it; ``painted`` says when the live
    row was last painted showing the text it had."""
    view = EventView()
    qtbot.addWidget(view)
    view.resize(900, 900)
    view.show()
    qtbot.waitExposed(view)
    bridge = SessionBridge(AppSettings(), persistence_dir=None)
    model = view.model()
    bridge.model_asked.connect(lambda count: model.start_stream(count))
    bridge.stream_received.connect(lambda taken: model.add_stream(taken.deltas))
    painted: dict[str, float] = {}
    delegate = view.event_delegate()
    paint = delegate.paint

    def timed_paint(painter, option, index) -> None:  # type: ignore[no-untyped-def]
        paint(painter, option, index)
        row = model.row_at(index.row())
        if isinstance(row, StreamRow):
            painted[row.content[-12:]] = time.perf_counter()
            painted["repaints"] = painted.get("repaints", 0) + 1

    delegate.paint = timed_paint  # type: ignore[method-assign]
    return view, bridge, painted


def test_first_token_to_visible(qtbot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    view, bridge, painted = _streaming_view(qtbot)
    session = bridge._session
    delays = []
    for run in range(FIRST_TOKEN_RUNS):
        session._on_request_sent(10 + run)  # as the engine's thread says it
        _wait(app, lambda: view.model().live_row is not None)
        qtbot.wait(100)
        token = f"token-{run:04d}"
        sent = time.perf_counter()
        threading.Thread(target=session._on_token, args=(StreamDelta(content=token),)).start()
        _wait(app, lambda token=token: token in painted)
        delays.append((painted[token] - sent) * 1000)
    # Baseline: a queued signal from another thread to a label's repaint.
    label = QLabel("baseline")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    shown: dict[str, float] = {}

    class Relay(QObject):
        said = Signal(str)

    relay = Relay()
    relay.said.connect(label.setText)
    base_paint = label.paintEvent

    def paint_event(event) -> None:  # type: ignore[no-untyped-def]
        base_paint(event)
        shown[label.text()] = time.perf_counter()

    label.paintEvent = paint_event  # type: ignore[method-assign]
    baseline = []
    for run in range(FIRST_TOKEN_RUNS):
        text = f"b-{run}"
        sent = time.perf_counter()
        threading.Thread(target=relay.said.emit, args=(text,)).start()
        _wait(app, lambda text=text: text in shown)
        baseline.append((shown[text] - sent) * 1000)
        qtbot.wait(20)
    print(
        f"\nfirst streamed token -> painted in the event view: median "
        f"{statistics.median(delays):.1f} ms, worst {max(delays):.1f} ms (goal < 50); "
        f"baseline queued signal -> QLabel painted: median {statistics.median(baseline):.1f} ms, "
        f"worst {max(baseline):.1f} ms"
    )
    bridge.close()


def _heartbeat_gaps(app: QApplication, seconds: float, work: Callable[[], None] | None) -> float:
    beats: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start()
    thread = threading.Thread(target=work) if work else None
    if thread:
        thread.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline or (thread is not None and thread.is_alive()):
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return max(b - a for a, b in itertools.pairwise(beats)) * 1000


def test_a_long_answer_keeps_the_gui_thread_free(qtbot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    view, bridge, painted = _streaming_view(qtbot)
    session = bridge._session
    session._on_request_sent(1)
    _wait(app, lambda: view.model().live_row is not None)
    words = ["Stream", "ing ", "is ", "**fun** ", "and ", "`fast`", ".\n\n", "More ", "text "]

    def feed() -> None:  # about 1,000 tokens a second, the pace of a fast model
        for i in range(TOKENS):
            session._on_token(StreamDelta(content=words[i % len(words)]))
            if i % 4 == 3:
                time.sleep(0.004)

    started = time.monotonic()
    worst = _heartbeat_gaps(app, 1.0, feed)
    took = time.monotonic() - started
    live = view.model().live_row
    assert live is not None and len(live.content) > 10_000
    baseline = _heartbeat_gaps(app, took, None)
    print(
        f"\n{TOKENS:,}-token answer streamed in {took:.1f} s, "
        f"{painted.get('repaints', 0):.0f} repaints of the live row: "
        f"worst GUI-thread stall {worst:.1f} ms (goal < 50); baseline idle heartbeat: "
        f"worst gap {baseline:.1f} ms"
    )
    bridge.close()


def test_streaming_through_the_helper_process(llm_server) -> None:  # noqa: F811
    reply = Reply.say("word " * 2000, completion_tokens=2000)
    llm_server.script = lambda _r: reply
    llm = make_llm(llm_server, stream=True)
    messages = [{"role": "user", "content": "hello"}]
    helper = LLMHelper()
    from agent.llm import process

    def timed(through_helper: bool) -> float:
        pieces: list[StreamDelta] = []
        previous = process._helper
        process._helper = helper if through_helper else None
        try:
            started = time.perf_counter()
            llm.completion(messages, on_delta=pieces.append)
            took = time.perf_counter() - started
        finally:
            process._helper = previous
        assert len(pieces) >= 2000
        return took

    try:
        timed(True)
        timed(False)  # both warm: litellm imported here and there
        here, there = [], []
        for _ in range(5):
            here.append(timed(False))
            there.append(timed(True))
    finally:
        helper.stop()
    in_process, helped = statistics.median(here), statistics.median(there)
    print(
        f"\n2,000-token streamed reply, token callback on: in-process litellm "
        f"{in_process * 1000:.0f} ms (baseline), through the helper process "
        f"{helped * 1000:.0f} ms: "
        f"{(helped / in_process - 1) * 100:+.1f} % (goal <= +10 %)"
    )
