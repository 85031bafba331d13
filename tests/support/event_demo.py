"""A realistic sample conversation, for screenshots, benchmarks and tests.

``demo_events()`` is one short session (a fix, a failing test run, a pause, a queued
correction); ``mixed_events(n)`` repeats its shapes to any length.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    Event,
    MessageEvent,
    ObservationEvent,
    PauseEvent,
    ResumeEvent,
    StatusEvent,
)
from agent.status import AgentStatus

_START = datetime(2026, 11, 24, 14, 2, tzinfo=UTC)

_DIFF = """\
--- a/workspace/app/totals.py
+++ b/workspace/app/totals.py
@@ -12,7 +12,9 @@ def total(items):
     result = 0
     for item in items:
-        result += item.price
+        if item.price is None:
+            continue
+        result += item.price * item.quantity
     return result
"""

_PYTEST_FAIL = """\
============================= test session starts ==============================
collected 14 items

tests/test_totals.py ....F.........                                      [100%]

=================================== FAILURES ===================================
_____________________________ test_missing_price ______________________________
    def test_missing_price():
>       assert total([Item(None, 2)]) == 0
E       TypeError: unsupported operand type(s) for +=: 'int' and 'NoneType'
=========================== short test summary info ============================
FAILED tests/test_totals.py::test_missing_price - TypeError
========================= 1 failed, 13 passed in 0.31s =========================
"""


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self, seconds: float = 7) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def demo_events() -> list[Event]:
    tick = _Clock(_START)
    events: list[Event] = []

    def add(event: Event) -> None:
        events.append(event)

    add(
        MessageEvent(
            role="user",
            text="The **order total** is wrong when an item has no price. "
            "Find the bug in `app/totals.py`, fix it and run the tests.",
            timestamp=tick(),
        )
    )
    add(StatusEvent(status=AgentStatus.RUNNING, timestamp=tick(1)))
    add(
        ActionEvent(
            tool_call_id="c1",
            tool_name="bash",
            arguments={"command": "cd /workspace && python -m pytest -q tests/test_totals.py"},
            thought="Let me run the tests first to see how it fails.",
            response_id="r1",
            request_event_count=2,
            timestamp=tick(),
        )
    )
    add(
        ObservationEvent(
            tool_call_id="c1",
            tool_name="bash",
            content=_PYTEST_FAIL,
            exit_code=1,
            cwd="/workspace",
            timestamp=tick(3),
        )
    )
    add(
        ActionEvent(
            tool_call_id="c2",
            tool_name="file_editor",
            arguments={
                "command": "str_replace",
                "path": "/workspace/app/totals.py",
                "old_str": "        result += item.price\n",
                "new_str": "...",
            },
            thought="`total()` adds `item.price` without checking for `None`, and it also "
            "ignores the quantity. I'll fix both:",
            response_id="r2",
            request_event_count=4,
            timestamp=tick(),
        )
    )
    add(
        ObservationEvent(
            tool_call_id="c2",
            tool_name="file_editor",
            content="The file /workspace/app/totals.py has been edited.",
            diff=_DIFF,
            timestamp=tick(1),
        )
    )
    add(PauseEvent(timestamp=tick(4)))
    add(
        MessageEvent(
            role="user",
            text="Also keep the old behaviour for *negative* prices.",
            timestamp=tick(20),
        )
    )
    add(ResumeEvent(timestamp=tick(9)))
    add(
        ActionEvent(
            tool_call_id="c3",
            tool_name="bash",
            arguments={"command": "python -m pytest -q"},
            thought="",
            response_id="r3",
            request_event_count=9,
            timestamp=tick(),
        )
    )
    add(
        ObservationEvent(
            tool_call_id="c3",
            tool_name="bash",
            content="..............                                                  [100%]\n"
            "14 passed in 0.28s\n",
            exit_code=0,
            cwd="/workspace",
            timestamp=tick(2),
        )
    )
    add(
        ActionEvent(
            tool_call_id="c4",
            tool_name="bash",
            arguments={"command": "pip install -q requests"},
            response_id="r4",
            request_event_count=11,
            timestamp=tick(),
        )
    )
    add(
        ObservationEvent(
            tool_call_id="c4",
            tool_name="bash",
            content="WARNING: Retrying (Retry(total=0)) after connection broken\n"
            "ERROR: Could not find a version that satisfies the requirement requests",
            exit_code=1,
            cwd="/workspace",
            ended="timeout",
            timestamp=tick(30),
        )
    )
    add(
        AgentErrorEvent(
            message="RateLimitError: the provider returned HTTP 429 (too many requests). "
            "Retrying in 4 s.",
            source="llm",
            retryable=True,
            timestamp=tick(),
        )
    )
    add(
        MessageEvent(
            role="assistant",
            text="Fixed. `total()` now:\n\n"
            "- skips items whose price is `None`,\n"
            "- multiplies by the **quantity**, and\n"
            "- keeps negative prices (refunds) as they were.\n\n"
            "All 14 tests pass.",
            request_event_count=14,
            timestamp=tick(5),
        )
    )
    add(StatusEvent(status=AgentStatus.FINISHED, timestamp=tick(0)))
    add(
        MessageEvent(
            role="user",
            text="Thanks! Now add a test for the refund case.",
            timestamp=tick(12),
        )
    )
    add(StatusEvent(status=AgentStatus.RUNNING, timestamp=tick(1)))
    add(
        ActionEvent(
            tool_call_id="c5",
            tool_name="bash",
            arguments={"command": "ls -la tests/ && wc -l tests/*.py"},
            response_id="r5",
            request_event_count=17,
            timestamp=tick(),
        )
    )
    # Sent while the command runs: the model has not seen it yet.
    add(
        MessageEvent(
            role="user",
            text="Use `pytest.mark.parametrize` for the refund cases.",
            timestamp=tick(3),
        )
    )
    return events


def demo_live_output() -> tuple[str, str]:
    """A chunk of output for the last (still running) command of ``demo_events``."""
    return (
        "c5",
        "total 16\ndrwxr-xr-x 2 root root 4096 Nov 24 14:01 .\n"
        "drwxr-xr-x 5 root root 4096 Nov 24 14:01 ..\n"
        "-rw-r--r-- 1 root root  812 Nov 24 14:01 test_totals.py\n",
    )


def mixed_events(count: int) -> list[Event]:
    """``count`` events in the proportions of a long real session."""
    base = demo_events()
    long_output = "\n".join(f"line {i}: " + "x" * (i % 90) for i in range(400))
    events: list[Event] = []
    round_ = 0
    while len(events) < count:
        for event in base:
            update: dict[str, object] = {"id": f"{event.id}-{round_}"}
            call_id = getattr(event, "tool_call_id", None)
            if call_id is not None:
                update["tool_call_id"] = f"{call_id}-{round_}"
            if isinstance(event, ObservationEvent) and event.tool_call_id == "c3" and round_ % 3:
                update["content"] = long_output
            if getattr(event, "request_event_count", None) is not None:
                update["request_event_count"] = len(events) + 1
            events.append(event.model_copy(update=update))
            if len(events) >= count:
                break
        round_ += 1
    return events


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.event_demo [--dark] [--width N] [--shot PNG]``: show the demo."""
    import argparse
    import sys

    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from gui.event_view.view import EventView

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--dark", action="store_true", help="a dark palette (Fusion style)")
    parser.add_argument("--width", type=int, default=760)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--shot", help="save a PNG of the view here and exit")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    if args.dark:
        app.setStyle("Fusion")
        palette = QPalette()
        for role, colour in (
            (QPalette.ColorRole.Window, "#1e1f22"),
            (QPalette.ColorRole.WindowText, "#dcdfe4"),
            (QPalette.ColorRole.Base, "#1b1c1f"),
            (QPalette.ColorRole.Text, "#dcdfe4"),
            (QPalette.ColorRole.Button, "#2b2d30"),
            (QPalette.ColorRole.ButtonText, "#dcdfe4"),
            (QPalette.ColorRole.Highlight, "#3d7bd9"),
        ):
            palette.setColor(role, QColor(colour))
        app.setPalette(palette)
    view = EventView()
    view.resize(args.width, args.height)
    view.model().set_events(demo_events())
    view.model().append_output(*demo_live_output())
    view.show()
    if not args.shot:
        return app.exec()
    for _ in range(3):
        app.processEvents()
    view.model()._flush_output()
    app.processEvents()
    view.grab().save(args.shot)
    print(args.shot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
