"""File browser figures: listing a big folder and highlighting a big file, against baselines.

Run with `make bench`. Baselines are measured in the same run: the bare `list_dir` call for
the tree, and plain `setPlainText` for the highlighter. The GUI-thread figure is the longest
gap a 5 ms heartbeat timer saw while the folder was listed and shown.
"""

from __future__ import annotations

import time
import uuid

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPlainTextEdit

from gui.file_browser import FileBrowser
from gui.file_browser.content import FileContent, classify

FILES = 2000
PY_BYTES = 250 * 1024


def _python_source(size: int) -> str:
    chunk = (
        "class Widget(Base):\n"
        '    """A docstring that spans\n    two lines."""\n\n'
        "    def method(self, value: int = 42) -> str:\n"
        "        # a comment with 'quotes'\n"
        '        return f"{value!r} and more" if value > 0x1F else None\n\n'
    )
    return (chunk * (size // len(chunk) + 1))[:size]


def _heartbeat(qtbot, action, until) -> tuple[float, float]:
    """Run `action`, pump events until `until()`, return (elapsed s, worst gap s)."""
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(beat)
    timer.start()
    start = time.perf_counter()
    last[0] = start
    action()
    qtbot.waitUntil(until, timeout=60_000)
    elapsed = time.perf_counter() - start
    timer.stop()
    return elapsed, max(gaps, default=0.0)


def test_bench_file_browser(qtbot, sandbox_image) -> None:
    from sandbox import DockerWorkspace

    ws = DockerWorkspace(image=sandbox_image, conversation_id=f"fb-bench-{uuid.uuid4().hex[:8]}")
    ws.start()
    try:
        ws.execute(
            f"mkdir -p /workspace/many && cd /workspace/many && "
            f"for i in $(seq 1 {FILES}); do echo $i > file_$i.txt; done && mkdir sub",
            timeout=120,
        )
        source = _python_source(PY_BYTES)
        ws.write_bytes("/workspace/big.py", source.encode())

        started = time.perf_counter()
        entries = ws.list_dir("/workspace/many")
        bare_list = time.perf_counter() - started
        assert len(entries) == FILES + 1

        browser = FileBrowser()
        qtbot.addWidget(browser)
        browser.resize(600, 800)
        browser.show()
        browser.set_workspace(ws)
        qtbot.waitUntil(lambda: not browser.is_busy(), timeout=60_000)
        many = browser.model.index_for_path("/workspace/many")
        expand_time, expand_gap = _heartbeat(
            qtbot,
            lambda: browser.file_tree.expand(many),
            lambda: not browser.is_busy() and browser.model.rowCount(many) == FILES + 1,
        )
        refresh_time, refresh_gap = _heartbeat(
            qtbot, browser.refresh_now, lambda: not browser.is_busy()
        )

        content: FileContent = classify("/workspace/big.py", source.encode())
        plain = QPlainTextEdit()
        started = time.perf_counter()
        plain.setPlainText(content.text)
        plain_time = time.perf_counter() - started
        started = time.perf_counter()
        browser.file_viewer.show_content(content)
        highlighted_time = time.perf_counter() - started
        assert browser.file_viewer.highlighter is not None

        rows = [
            ("list_dir of 2,001 entries (baseline)", bare_list, 1.0, ""),
            ("expand that folder in the tree", expand_time, expand_time / bare_list, expand_gap),
            ("refresh with it expanded", refresh_time, refresh_time / bare_list, refresh_gap),
            ("setPlainText 250 KB (baseline)", plain_time, 1.0, ""),
            (
                "open 250 KB Python, highlighted",
                highlighted_time,
                highlighted_time / plain_time,
                "",
            ),
        ]
        print("\n\nFile browser benchmark")
        print(f"{'what':42} {'time':>10} {'ratio':>8} {'worst GUI stall':>16}")
        for what, seconds, ratio, gap in rows:
            stall = f"{gap * 1000:.1f} ms" if gap != "" else ""
            print(f"{what:42} {seconds * 1000:8.1f}ms {ratio:7.2f}x {stall:>16}")
    finally:
        ws.remove(volume=True)
