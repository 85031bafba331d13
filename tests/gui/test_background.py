"""gui.background: work runs off the GUI thread; outcomes, failures and progress come back
on it; nothing is delivered to an owner that is gone, forgot or cancelled; a coalesced
refresh never has two runs in flight."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QThread

from gui.background import Background, Cancelled, Coalesced, background_pool


def _gui_thread() -> QThread:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance().thread()


def _settle(qtbot) -> None:
    background_pool().waitForDone(10_000)
    qtbot.wait(50)  # the queued outcomes


@pytest.mark.parametrize("long_running", [False, True])
def test_the_result_and_the_failure_arrive_on_the_gui_thread(qtbot, long_running: bool):
    owner = QObject()
    background = Background(owner)
    ran_on: list[int] = []
    got: list[tuple[str, object, bool]] = []

    def work() -> int:
        ran_on.append(threading.get_ident())
        return 42

    def fail() -> None:
        raise OSError("No such container: " + "ab" * 32)

    background.run(
        work,
        lambda r: got.append(("done", r, QThread.currentThread() is _gui_thread())),
        long_running=long_running,
    )
    background.run(
        fail,
        on_error=lambda m: got.append(("error", m, QThread.currentThread() is _gui_thread())),
        long_running=long_running,
    )
    qtbot.waitUntil(lambda: len(got) == 2)
    assert ran_on and ran_on[0] != threading.get_ident()
    assert sorted(got, key=lambda g: g[0]) == [
        ("done", 42, True),
        # Described in one short line: Docker's 64-digit ids cut to the short form.
        ("error", "No such container: " + "ab" * 6, True),
    ]
    assert background.pending_count() == 0


def test_nothing_reaches_an_owner_that_is_gone_forgot_or_cancelled(qtbot):
    release = threading.Event()
    got: list[str] = []

    def slow() -> str:
        release.wait(10)
        return "late"

    gone, staying = QObject(), QObject()
    Background(gone).run(slow, lambda r: got.append("gone"))
    forgetful = Background(staying)
    forgetful.run(slow, lambda r: got.append("forgot"))
    cancelled = Background(staying).run(slow, lambda r: got.append("cancelled"))
    Background(staying).run(slow, got.append)

    assert not cancelled.wait(0.01)  # still running
    gone.deleteLater()
    qtbot.wait(20)  # the owner is deleted while its work runs
    forgetful.forget_all()
    cancelled.cancel()
    assert cancelled.cancelled and forgetful.pending_count() == 0
    release.set()
    assert cancelled.wait(10)  # the work ends even though nobody hears of it
    qtbot.waitUntil(lambda: got == ["late"])
    _settle(qtbot)
    assert got == ["late"]


def test_cancel_stops_the_work_at_its_next_report_and_progress_keeps_the_latest(qtbot):
    owner = QObject()
    background = Background(owner)
    seen: list[int] = []
    outcome: list[str] = []

    def count(report) -> str:
        for n in range(1, 2001):
            report(n, 2000)
        return "counted"

    background.run(
        count,
        outcome.append,
        on_progress=lambda done, total: seen.append(done),
        progress_interval=0.5,  # far longer than the loop: most reports are held back
    )
    qtbot.waitUntil(lambda: outcome == ["counted"])
    # Throttled, yet the last figure arrives, and before the result.
    assert 1 <= len(seen) < 20 and seen[-1] == 2000

    started = threading.Event()
    stopped: list[str] = []

    def endless(report) -> None:
        try:
            while True:
                started.set()
                report("still going")
        except Cancelled:
            stopped.append("stopped")
            raise

    job = background.run(endless, lambda _r: outcome.append("endless"), on_progress=lambda _l: None)
    assert started.wait(10)
    job.cancel()
    qtbot.waitUntil(lambda: stopped == ["stopped"])
    _settle(qtbot)
    assert outcome == ["counted"]  # a cancelled job delivers nothing


def test_a_coalesced_refresh_runs_once_at_a_time_and_once_more_for_the_latest_ask(qtbot):
    owner = QObject()
    gate = threading.Event()
    running = 0
    most_at_once = 0
    lock = threading.Lock()
    runs: list[str] = []
    shown: list[str] = []

    def work(tag: str):
        def listing() -> str:
            nonlocal running, most_at_once
            with lock:
                running += 1
                most_at_once = max(most_at_once, running)
            gate.wait(10)
            with lock:
                running -= 1
            runs.append(tag)
            return tag

        return listing

    refresh: Coalesced[str] = Coalesced(Background(owner), shown.append)
    refresh.request(work("first"))
    for n in range(10):  # asked ten times while the first runs
        refresh.request(work(f"ask {n}"))
    assert refresh.busy
    gate.set()
    qtbot.waitUntil(lambda: not refresh.busy)
    _settle(qtbot)
    assert runs == ["first", "ask 9"]  # one more run, with the latest ask
    assert shown == ["first", "ask 9"]
    assert most_at_once == 1


class _Work:
    """Work that says on which thread it was freed."""

    def __init__(self, freed_on: list[int]) -> None:
        self.freed_on = freed_on

    def __call__(self) -> str:
        return "ran"

    def __del__(self) -> None:
        self.freed_on.append(threading.get_ident())


def test_the_work_handed_over_is_let_go_of_on_the_gui_thread(qtbot):
    """What an owner hands over (the work, its closures, a widget's bound method) is freed on
    the GUI thread: a parentless widget freed on a worker is deleted there, while the GUI
    thread may be painting it."""
    freed_on: list[int] = []
    got: list[str] = []
    owner = QObject()
    Background(owner).run(_Work(freed_on), got.append)
    qtbot.waitUntil(lambda: got == ["ran"])
    qtbot.waitUntil(lambda: bool(freed_on))
    assert freed_on == [threading.get_ident()], "freed on the worker's thread"


class _Cycle:
    """Garbage only the cyclic collector frees; says on which thread it was freed."""

    def __init__(self, freed_on: list[int]) -> None:
        self.me = self
        self.freed_on = freed_on

    def __del__(self) -> None:
        self.freed_on.append(threading.get_ident())


def test_cyclic_garbage_is_freed_on_the_gui_thread_while_a_worker_allocates(qtbot):
    """A widget only a cycle keeps must be deleted on the GUI thread: freed by a worker's
    collection, a closed Settings dialog went while the window painted it (a crash)."""
    freed_on: list[int] = []
    kept: list[object] = []
    _Cycle(freed_on)  # unreachable at once

    def allocate() -> None:
        # Far past the collector's first threshold, and kept: a collection is due.
        kept.extend([] for _ in range(20_000))

    done: list[bool] = []
    owner = QObject()
    Background(owner).run(allocate, lambda _r: done.append(True))
    qtbot.waitUntil(lambda: bool(done))
    qtbot.waitUntil(lambda: bool(freed_on), timeout=5_000)
    assert freed_on == [threading.get_ident()], "freed by the worker's collection"
    kept.clear()


# Where gui/ may still start a thread another way, and why. The agent loop's QThread (one
# per conversation) is not background work and is allowed anywhere.
_ALLOWED = {
    "gui/background.py": "the mechanism itself",
}
_OTHER_WAYS = {"Thread", "QThreadPool", "QRunnable", "ThreadPoolExecutor", "start_new_thread"}


def test_gui_starts_background_work_only_through_gui_background():
    import ast

    root = Path(__file__).resolve().parents[2]
    found = []
    for path in sorted((root / "gui").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in _ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(), name)):
            used = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
            if isinstance(node, ast.Name | ast.Attribute) and used in _OTHER_WAYS:
                found.append(f"{name}:{node.lineno} {used}")
    assert not found, "run it through gui.background.Background instead: " + ", ".join(found)
