"""Background work in gui/: a blocking call runs off the GUI thread, its outcome comes back on it.

This is the one way gui/ starts work on another thread (the agent loop's QThread aside).
To run something in the background, give its owner a ``Background`` and hand it a callable::

    self._background = Background(self)              # one per owner (a widget, a QObject)
    self._background.run(
        lambda: list_conversations(root),            # runs on a worker thread
        on_done=self._show,                          # GUI thread, with the result
        on_error=self._say,                          # GUI thread, with a short sentence
    )

What it promises:

- The work runs on one app-wide QThreadPool (``background_pool()``): the number of threads
  stays bounded and no widget's teardown waits on Docker. Work that can take minutes (an
  image build) passes ``long_running=True`` and gets a daemon thread of its own, so it holds
  none of the pool's few threads and never keeps the app from quitting (the pool's threads
  are waited for at exit).
- Outcomes come back as queued signals to one relay that lives on the GUI thread as long as
  the app, which calls the callbacks there. No callback ever runs on a worker thread, and no
  short-lived QObject is emitted from one (ad-hoc threads had to keep each task's emitter
  alive by hand, or a dialog closed first took it away under its thread).
- The worker never drops the last reference to what the owner handed over (the work, its
  closures, a widget's bound method): the relay keeps the work until the worker has let
  go of it, so such objects are freed on the GUI thread, never deleted under it.
- An exception in the work never reaches Qt: ``on_error`` gets ``describe(exc)`` (Docker's
  own explanation preferred, long ids shortened); without ``on_error`` it is logged.
- Callbacks are dropped when their owner is gone (the ``Background`` is its child, so it goes
  with it), when the owner calls ``forget_all()`` (results for a workspace since replaced
  are never delivered), or when the job is cancelled (``job.cancel()``; the work's next
  ``report()`` then raises ``Cancelled``, so it can stop early). ``job.wait(timeout)``
  blocks until the work has ended, for a quit that must let a close finish.
- Progress: with ``on_progress=``, the work is called with a ``report`` function it calls
  from its thread as ``report(*values)``; the GUI thread gets ``on_progress(*values)``, at
  most once per ``progress_interval`` seconds, the latest values always before the outcome.
- ``Coalesced``, for a refresh asked more often than it can run: one run in flight; asked
  meanwhile, it runs once more after, with the latest work asked for.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from shiboken6 import isValid

log = logging.getLogger(__name__)

T = TypeVar("T")
Report = Callable[..., None]

_LONG_ID = re.compile(r"\b[0-9a-f]{64}\b")
_pool: QThreadPool | None = None
_relay: _Relay | None = None


class Cancelled(Exception):
    """Raised by ``report()`` in work whose job was cancelled: nobody waits for it any more."""


def background_pool() -> QThreadPool:
    """The pool background work runs on: app-wide, so no widget's teardown waits on it."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("berth-background")
        _pool.setMaxThreadCount(4)
        _pool.setExpiryTimeout(30_000)
    return _pool


def describe(exc: BaseException) -> str:
    """A failure as one short text a user can read."""
    text = str(exc).strip()
    # docker's APIError carries the engine's own explanation; prefer it over the URL dump.
    explanation = getattr(exc, "explanation", None)
    if explanation:
        text = str(explanation)
    # Full 64-digit container ids help nobody reading a message; Docker's short form does.
    text = _LONG_ID.sub(lambda m: m.group(0)[:12], text)
    return text or type(exc).__name__


def first_line(text: str, limit: int = 200) -> str:
    """The first line of a (possibly long, multi-line) message, cut to ``limit``."""
    lines = text.strip().splitlines()
    return lines[0][:limit] if lines else ""


@dataclass(eq=False)
class _Task:
    """The worker's side of a job: what the work needs while it runs, and nothing of its
    owner's (no callbacks, no ``Background``). The worker drops its reference to the work
    before it tells the outcome, and the relay keeps one until then: so the last reference
    to anything the owner handed over (a widget's bound method, a closure over a dialog)
    goes on the GUI thread. Dropped last on the worker, a Python-owned widget would be
    deleted there, under the GUI thread painting it."""

    id: int
    name: str
    fn: Callable[..., Any] | None
    takes_report: bool
    log_failure: bool  # nobody is told (no on_error): the failure goes to the log
    interval: float
    cancel: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    # When the last report went out, and the one held back.
    sent_at: float = 0.0
    held: tuple[Any, ...] | None = None

    def report(self, *values: Any) -> None:
        if self.cancel.is_set():
            raise Cancelled(self.name)
        now = time.monotonic()
        if self.interval and now - self.sent_at < self.interval:
            self.held = values  # sent later, or just before the outcome
            return
        self.sent_at, self.held = now, None
        _emit(_relay_or_none(), "progress", self.id, values)

    def execute(self) -> None:
        try:
            outcome = self._call()
            if outcome is not None:
                _emit(_relay_or_none(), *outcome)
        finally:
            self.ended.set()
            _emit(_relay_or_none(), "released", self.id)

    def _call(self) -> tuple[str, int, Any] | None:
        """The outcome to tell, once the work, its frames and its exception are let go."""
        fn, self.fn = self.fn, None
        if fn is None:  # already ran
            return None
        try:
            result = fn(self.report) if self.takes_report else fn()
        except Cancelled:
            return None
        except Exception as exc:  # described to the owner, never raised into Qt
            if self.log_failure:
                log.warning("%s failed", self.name, exc_info=True)
            else:
                log.debug("%s failed", self.name, exc_info=True)
            failure = describe(exc)
        else:
            self._flush()
            return ("done", self.id, result)
        finally:
            del fn
        self._flush()
        return ("failed", self.id, failure)

    def _flush(self) -> None:
        if self.held is not None and not self.cancel.is_set():
            _emit(_relay_or_none(), "progress", self.id, self.held)
            self.held = None


@dataclass(eq=False)
class Job:
    """One piece of background work, as its owner sees it (on the GUI thread only)."""

    id: int
    name: str
    _runner: Background
    _on_done: Callable[[Any], None] | None
    _on_error: Callable[[str], None] | None
    _on_progress: Callable[..., None] | None
    _task: _Task

    def cancel(self) -> None:
        """Never deliver this job's outcome; its next ``report()`` raises ``Cancelled``."""
        self._task.cancel.set()
        self._runner._drop(self)

    @property
    def cancelled(self) -> bool:
        return self._task.cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has ended (not until its outcome is delivered), at most
        ``timeout`` seconds; True if it ended. For a quit that must let a close finish:
        anywhere else, a callback is the way to hear of the end."""
        return self._task.ended.wait(timeout)


def _emit(relay: _Relay | None, which: str, *args: Any) -> None:
    if relay is None:
        return
    # RuntimeError: the app (and its relay) went away while the work ran; nobody to tell.
    with contextlib.suppress(RuntimeError):
        getattr(relay, which).emit(*args)


class _Relay(QObject):
    """Lives on the GUI thread as long as the app; hands each outcome to its job's owner."""

    done = Signal(int, object)
    failed = Signal(int, str)
    progress = Signal(int, object)
    released = Signal(int)  # the worker let go of the work: the last reference goes here

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("berth-background-relay")
        self.jobs: dict[int, Job] = {}
        # Each job's work, kept until its worker has let go of it (see _Task).
        self.work: dict[int, Callable[..., Any]] = {}
        # Queued explicitly: emitted on a worker thread, handled on the GUI thread.
        self.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        self.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self.released.connect(self._on_released, Qt.ConnectionType.QueuedConnection)

    def _live(self, job_id: int, *, keep: bool = False) -> Job | None:
        job = self.jobs.get(job_id) if keep else self.jobs.pop(job_id, None)
        if job is None or not isValid(job._runner):  # its owner is gone
            return None
        if not keep:
            job._runner._jobs.pop(job_id, None)
        return job

    @Slot(int, object)
    def _on_done(self, job_id: int, result: object) -> None:
        job = self._live(job_id)
        if job is not None and job._on_done is not None:
            job._on_done(result)

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        job = self._live(job_id)
        if job is not None and job._on_error is not None:
            job._on_error(message)

    @Slot(int, object)
    def _on_progress(self, job_id: int, values: tuple[Any, ...]) -> None:
        job = self._live(job_id, keep=True)
        if job is not None and job._on_progress is not None:
            job._on_progress(*values)

    @Slot(int)
    def _on_released(self, job_id: int) -> None:
        self.work.pop(job_id, None)


def _relay_or_none() -> _Relay | None:
    return _relay


def _the_relay() -> _Relay:
    global _relay
    if _relay is None:
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("background work needs a QApplication")
        _relay = _Relay()
        # On the GUI thread whoever asks first, so its slots run there.
        _relay.moveToThread(app.thread())
    return _relay


class _PoolWork(QRunnable):
    def __init__(self, task: _Task) -> None:
        super().__init__()
        self._task = task

    def run(self) -> None:
        self._task.execute()


_ids = itertools.count(1)


class Background(QObject):
    """Runs its owner's background work; the outcomes come back as GUI-thread callbacks.

    Made and used on the GUI thread (its bookkeeping is not locked, by design: only the
    work itself runs elsewhere)."""

    def __init__(self, owner: QObject) -> None:
        super().__init__(owner)
        self._relay = _the_relay()
        self._jobs: dict[int, Job] = {}

    def run(
        self,
        fn: Callable[..., T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        *,
        on_progress: Callable[..., None] | None = None,
        progress_interval: float = 0.0,
        long_running: bool = False,
        name: str = "",
    ) -> Job:
        """Start ``fn()`` (or ``fn(report)`` when ``on_progress`` is given) off the GUI thread."""
        job_id = next(_ids)
        name = name or getattr(fn, "__qualname__", "background work")
        task = _Task(
            id=job_id,
            name=name,
            fn=fn,
            takes_report=on_progress is not None,
            log_failure=on_error is None,
            interval=progress_interval,
        )
        job = Job(job_id, name, self, on_done, on_error, on_progress, task)
        self._jobs[job_id] = job
        self._relay.jobs[job_id] = job
        self._relay.work[job_id] = fn
        if long_running:
            thread_name = f"berth-{name}"
            threading.Thread(target=task.execute, name=thread_name, daemon=True).start()
        else:
            background_pool().start(_PoolWork(task))
        return job

    def forget_all(self) -> None:
        """Drop the callbacks of every job in flight; their outcomes will be discarded."""
        for job in list(self._jobs.values()):
            self._drop(job)

    def pending_count(self) -> int:
        return len(self._jobs)

    def _drop(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        self._relay.jobs.pop(job.id, None)


class Coalesced(Generic[T]):
    """A refresh that never piles up: one run in flight; asked meanwhile, one more after it.

    Each ``request(work)`` names the work to run (so a later one can carry newer arguments);
    of the requests made while one runs, only the latest is run, once, when it ends.
    """

    def __init__(
        self,
        background: Background,
        on_done: Callable[[T], None],
        on_error: Callable[[str], None] | None = None,
        *,
        name: str = "",
    ) -> None:
        self._background = background
        self._on_done = on_done
        self._on_error = on_error
        self._name = name
        self._running = False
        self._next: Callable[[], T] | None = None

    @property
    def busy(self) -> bool:
        return self._running

    def request(self, work: Callable[[], T]) -> None:
        if self._running:
            self._next = work
            return
        self._start(work)

    def _start(self, work: Callable[[], T]) -> None:
        self._running = True
        self._background.run(work, self._done, self._failed, name=self._name)

    def _done(self, result: T) -> None:
        self._finish()
        self._on_done(result)

    def _failed(self, message: str) -> None:
        self._finish()
        if self._on_error is not None:
            self._on_error(message)
        else:
            log.warning("%s failed: %s", self._name or "a refresh", message)

    def _finish(self) -> None:
        self._running = False
        work, self._next = self._next, None
        if work is not None:
            self._start(work)
