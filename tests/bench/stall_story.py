"""The app launched as a user launches it, with a heartbeat on its GUI thread, driven through
the send / pause / correct / resume / finish story. Run by bench_stall.py in a fresh
interpreter (so every import is cold, litellm's too), never collected as a test:

    python -m tests.bench.stall_story OUT.json [--send-after S] [--bare SECONDS]

The heartbeat starts right after the QApplication, before ``gui.main_window.window`` is even
imported; the app is then started by ``gui.app.run_app``, the function ``berth`` calls, and
the story runs inside its event loop. Settings come from the environment (LLM_MODEL,
LLM_BASE_URL, LLM_API_KEY, BERTH_SANDBOX_IMAGE), as for a user who set them.

``--bare SECONDS``: the baseline instead, a bare QMainWindow with the same heartbeat for
that long. What is written to OUT.json is ``StoryFigures`` (below).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import sys
import threading
import time
from pathlib import Path

from pydantic import BaseModel
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from tests.bench.launch_probe import FirstPaint
from tests.support.stories import CORRECTION, NEW_FILE, TASK

HEARTBEAT_MS = 10
PAUSE_AFTER_S = 2.0  # into the command's run: its first output line marks the start
TIMEOUT_S = 60.0  # a step; the story fails with what it waited for, before pytest times out


class Collection(BaseModel):
    """One garbage collection: when (s since launch), which generation, how long, where."""

    at: float
    generation: int
    ms: float
    thread: str


class StoryFigures(BaseModel):
    """What the child measured. Times are seconds since launch (the interpreter's start)."""

    # Gaps between heartbeat ticks (ms) once the window was shown, with when each ended.
    gaps_ms: list[float]
    gap_ends: list[float]
    # The longest gap before the window showed: launch time, not a stall a user can feel.
    launch_gap_ms: float
    shown_at: float
    phases: dict[str, float]
    collections: list[Collection]
    modules_at_send: int = 0
    modules_at_end: int = 0
    # Imported after the preload thread ended (by the first run, or the window).
    late_modules: list[str] = []


class Heartbeat:
    """A HEARTBEAT_MS timer on the GUI thread: a long gap between two ticks is a stall."""

    def __init__(self, launched: float) -> None:
        self.launched = launched
        self.ticks: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter() - self.launched)

    def start(self) -> None:
        self.ticks.append(time.perf_counter() - self.launched)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def figures(self, shown_at: float, end: float, **extra) -> StoryFigures:
        """The gaps from ``shown_at`` to ``end`` (the story's clean-up is not measured)."""
        pairs = list(zip(self.ticks, self.ticks[1:], strict=False))
        before = [(b - a) * 1000 for a, b in pairs if b <= shown_at]
        after = [(a, b) for a, b in pairs if shown_at < b <= end]
        return StoryFigures(
            gaps_ms=[(b - max(a, shown_at)) * 1000 for a, b in after],
            gap_ends=[b for _a, b in after],
            launch_gap_ms=max(before, default=0.0),
            shown_at=shown_at,
            **extra,
        )


class CollectionLog:
    """Every garbage collection, timed through ``gc.callbacks`` (on whichever thread)."""

    def __init__(self, launched: float) -> None:
        self.launched = launched
        self.collections: list[Collection] = []
        self._started: dict[int, float] = {}
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        now = time.perf_counter()
        ident = threading.get_ident()
        if phase == "start":
            self._started[ident] = now
        elif ident in self._started:
            began = self._started.pop(ident)
            self.collections.append(
                Collection(
                    at=began - self.launched,
                    generation=info["generation"],
                    ms=(now - began) * 1000,
                    thread=threading.current_thread().name,
                )
            )


class GilWatch:
    """Diagnosis only (``--diagnose``): a thread that sleeps 5 ms at a time; when it wakes
    late, some thread held the GIL that long, and the stacks of the others, taken as soon
    as it gets the GIL back, show where the holder stood when it let go."""

    def __init__(self, launched: float, late_ms: float = 40.0) -> None:
        self.launched = launched
        self.late_ms = late_ms
        self.reports: list[str] = []
        # (when, the GUI thread's innermost frames): what it was busy with during a gap.
        self.gui_samples: list[tuple[float, str]] = []
        self._gui = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gil-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        import traceback

        names = {}
        while not self._stop.is_set():
            before = time.perf_counter()
            time.sleep(0.005)
            frame = sys._current_frames().get(self._gui or 0)
            if frame is not None:
                stack = traceback.extract_stack(frame)[-8:]
                where = " < ".join(
                    f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack)
                )
                self.gui_samples.append((time.perf_counter() - self.launched, where))
            late = (time.perf_counter() - before) * 1000 - 5
            if late < self.late_ms:
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            lines = [f"late {late:.0f} ms at {before - self.launched:.2f} s"]
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                stack = traceback.extract_stack(frame)[-6:]
                where = " < ".join(
                    f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack)
                )
                lines.append(f"    {names.get(ident, ident)}: {where}")
            self.reports.append("\n".join(lines))

    def stop(self) -> None:
        self._stop.set()

    def gui_during(self, start: float, end: float) -> str:
        """What the GUI thread was seen doing between ``start`` and ``end``."""
        seen = [where for at, where in self.gui_samples if start <= at <= end + 0.005]
        return "\n".join(f"      {where}" for where in dict.fromkeys(seen)) or "      -"


class SlotTimes:
    """Diagnosis only: how long each notice a bridge handles, and each background outcome
    delivered, takes on the GUI thread (the ones over 2 ms), with when each ended."""

    def __init__(self, launched: float) -> None:
        from gui import background
        from gui.sessions import session_bridge

        self.launched = launched
        self.slow: list[tuple[float, float, str]] = []
        self._wrap(session_bridge.SessionBridge, "_on_notice", lambda a: type(a[0]).__name__)
        for name in ("_on_done", "_on_failed", "_on_progress"):
            self._wrap(background._Relay, name, self._job_name)

    @staticmethod
    def _job_name(args) -> str:
        from gui import background

        relay = background._relay_or_none()
        job = relay.jobs.get(args[0]) if relay is not None else None
        return f"background {job.name if job else args[0]}"

    def _wrap(self, cls, name: str, describe) -> None:
        original = getattr(cls, name)
        slow = self.slow
        launched = self.launched

        def timed(obj, *args):
            what = describe(args)
            began = time.perf_counter()
            try:
                return original(obj, *args)
            finally:
                ended = time.perf_counter()
                if ended - began > 0.002:
                    slow.append((ended - launched, (ended - began) * 1000, what))

        setattr(cls, name, timed)

    def during(self, start: float, end: float) -> str:
        rows = [f"      {ms:5.1f} ms {what}" for at, ms, what in self.slow if start <= at <= end]
        return "\n".join(rows) or "      -"


class Story:
    """A story run inside the app's own event loop, never blocking it: each step waits for
    something the window shows, polled by a timer (a nested ``QTest.qWait`` would hold the
    GIL while it waits, starving the app's other threads, which a user's idle hand does not).

    The steps are a generator that yields ``(what, predicate)``: the story carries on once
    the predicate holds. Also noted, in ``phases``: when each status word first showed and
    when the preload thread ended.
    """

    POLL_MS = 50  # what a story's own polling costs the GUI thread stays small

    def __init__(self, app: QApplication, launched: float, steps) -> None:
        self.app = app
        self.launched = launched
        self.phases: dict[str, float] = {}
        self.failure: BaseException | None = None
        self._steps = steps(self)
        self._waiting: tuple[str, object] = ("", lambda: True)
        self._deadline = time.monotonic() + TIMEOUT_S
        self._preload_seen = False
        self.window: QWidget | None = None
        self.preloaded_modules: set[str] = set()
        self._timer = QTimer()
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def now(self) -> float:
        return time.perf_counter() - self.launched

    def note(self, phase: str) -> None:
        self.phases.setdefault(phase, self.now())

    def _poll(self) -> None:
        alive = any(t.name == "berth-preload" for t in threading.enumerate())
        self._preload_seen = self._preload_seen or alive
        if self._preload_seen and not alive and "preload done" not in self.phases:
            self.note("preload done")
            self.preloaded_modules = set(sys.modules)
        what, predicate = self._waiting
        try:
            status = getattr(self.window, "status_label", None)  # the bare window has none
            if status is not None:
                self.note("status " + status.text())
            if not predicate():  # type: ignore[operator]
                if time.monotonic() > self._deadline:
                    raise TimeoutError(f"the story timed out waiting for: {what}")
                return
            self._waiting = next(self._steps)
            self._deadline = time.monotonic() + TIMEOUT_S
        except StopIteration:
            self._end()
        except BaseException as exc:  # reported by the exit code, once the loop ends
            self.failure = exc
            self._end()

    def painted(self, probe: FirstPaint) -> None:
        """The window's first paint is done: from now on, a gap is a stall."""
        self.window = probe.window
        self.note("shown")

    def _end(self) -> None:
        self._timer.stop()
        self.app.quit()

    def pause(self, seconds: float):
        until = self.now() + seconds
        return (f"{seconds} s", lambda: self.now() >= until)


def user_story(send_after: float, conversations: int = 1):
    """The user's story in the window ``run_app`` showed, as Story steps.

    ``conversations``: how many run at once. The others are started first, each with the
    same task (then New), and go on in the background, each in its own container, while
    the one shown runs the story.
    """
    from gui.event_view import EventRole
    from tests.gui.window_helpers import status_text, tree_index

    def steps(story: Story):
        yield "the window's first paint", lambda: "shown" in story.phases
        window = story.window
        assert window is not None

        def shows(text: str, last: int | None = 3) -> bool:
            """Whether the stream shows ``text`` in its ``last`` rows (polled 20 times a
            second: the whole stream costs more), or in any row with ``last=None``."""
            model = window.event_view.model()
            first = 0 if last is None else max(0, model.rowCount() - last)
            rows = range(first, model.rowCount())
            return any(text in str(model.data(model.index(r), EventRole.FULL_TEXT)) for r in rows)

        if send_after:
            yield story.pause(send_after)
        for _ in range(conversations - 1):
            QTest.keyClicks(window.composer_edit, TASK)
            window.action_send.trigger()
            yield "a background conversation's output", lambda: shows("line 1")
            window.action_new.trigger()
        QTest.keyClicks(window.composer_edit, TASK)
        window.action_send.trigger()
        story.note("sent")
        story.phases["modules_at_send"] = len(sys.modules)
        yield "the command's first output line", lambda: shows("line 1")
        story.note("command running")
        yield story.pause(PAUSE_AFTER_S)
        window.action_pause.trigger()
        yield "Paused", lambda: status_text(window) == "Paused"
        story.note("paused")
        window.composer_edit.setFocus()
        QTest.keyClicks(window.composer_edit, CORRECTION)
        QTest.keyClick(window.composer_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        yield "the correction in the stream", lambda: shows(CORRECTION, last=None)
        window.action_resume.trigger()
        story.note("resumed")
        yield "Finished", lambda: status_text(window) == "Finished"
        story.note("finished")
        yield "the new file in the tree", lambda: tree_index(window, NEW_FILE).isValid()
        story.note("end")
        story.phases["modules_at_end"] = len(sys.modules)
        opened = [b.conversation for b in window.conversations.all() if b.conversation]
        window.shutdown()  # pauses all, stops the containers (as quitting does)
        window.close()
        for conversation in opened:
            conversation.delete(remove_container=True)

    return steps


def bare_window(seconds: float):
    """The baseline's steps: a bare QMainWindow, shown, then left alone for ``seconds``."""

    def steps(story: Story):
        window = QMainWindow()
        window.resize(1320, 820)
        window.show()
        yield "the window's first paint", lambda: "shown" in story.phases
        yield story.pause(seconds)
        story.note("end")
        window.close()

    return steps


def main(argv: list[str] | None = None) -> int:
    launched = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--send-after", type=float, default=0.0)
    parser.add_argument("--bare", type=float, default=None)
    parser.add_argument("--conversations", type=int, default=1)
    parser.add_argument("--diagnose", action="store_true")
    args = parser.parse_args(argv)
    watch = GilWatch(launched) if args.diagnose else None
    slots = SlotTimes(launched) if args.diagnose else None

    collections = CollectionLog(launched)
    from gui.app import make_application

    app = make_application([]) if args.bare is None else QApplication([])
    heartbeat = Heartbeat(launched)
    heartbeat.start()
    if args.bare is not None:
        story = Story(app, launched, bare_window(args.bare))
        probe = FirstPaint(app, QMainWindow, story.painted)
        app.exec()
    else:
        from gui.app import run_app
        from gui.main_window import MainWindow

        story = Story(app, launched, user_story(args.send_after, args.conversations))
        probe = FirstPaint(app, MainWindow, story.painted)
        run_app([])
    assert probe.painted_at is not None
    heartbeat.stop()
    if watch is not None:
        watch.stop()
        print("\n".join(watch.reports))
        ticks = heartbeat.ticks
        for a, b in itertools.pairwise(ticks):
            if b - a > 0.040 and b > story.phases.get("shown", 0):
                print(f"gap {(b - a) * 1000:.0f} ms ending {b:.2f} s; the GUI thread:")
                print(watch.gui_during(a, b))
                if slots is not None:
                    print("    slow slots in it:")
                    print(slots.during(a, b))
    if story.failure is not None:
        raise story.failure

    phases = story.phases
    modules = {k: int(phases.pop(k)) for k in ("modules_at_send", "modules_at_end") if k in phases}
    if story.preloaded_modules:
        modules["late_modules"] = sorted(set(sys.modules) - story.preloaded_modules)
    figures = heartbeat.figures(
        phases["shown"],
        phases["end"],
        phases=phases,
        collections=collections.collections,
        **modules,
    )
    args.out.write_text(figures.model_dump_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
