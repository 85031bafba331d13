"""Runs blocking workspace calls on a thread pool and hands results back on the GUI thread.

Each job's outcome travels as a queued signal to a JobRunner living on the GUI thread, which
calls the job's callbacks there. `forget_all()` drops every pending callback, so results from
a workspace that has since been replaced are simply never delivered.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

_PROGRESS_INTERVAL_S = 0.05  # a transfer reports thousands of chunks; the bar needs ~20/s

_LONG_ID = re.compile(r"\b[0-9a-f]{64}\b")

_pool: QThreadPool | None = None


def file_pool() -> QThreadPool:
    """The pool every file job runs on: app-wide, so no widget's teardown waits on Docker."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("berth-file-jobs")
        _pool.setMaxThreadCount(4)
        _pool.setExpiryTimeout(30_000)
    return _pool


class _JobSignals(QObject):
    done = Signal(int, object)
    failed = Signal(int, str)
    progress = Signal(int, int, int)


ProgressFn = Callable[[int, int], None]


class _Job(QRunnable):
    def __init__(
        self, job_id: int, signals: _JobSignals, fn: Callable[..., Any], with_progress: bool
    ) -> None:
        super().__init__()
        self._id = job_id
        self._signals = signals
        self._fn = fn
        self._with_progress = with_progress
        self._last_progress = 0.0

    def _report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_progress < _PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self._emit(self._signals.progress, self._id, int(done), int(total))

    def run(self) -> None:
        try:
            result = self._fn(self._report) if self._with_progress else self._fn()
        except Exception as exc:  # any failure is shown to the user, never raised into Qt
            self._emit(self._signals.failed, self._id, _describe(exc))
        else:
            self._emit(self._signals.done, self._id, result)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        # RuntimeError: the runner went away with its widget, so there is nobody to tell.
        with contextlib.suppress(RuntimeError):
            signal.emit(*args)


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    # docker's APIError carries the engine's own explanation; prefer it over the URL dump.
    explanation = getattr(exc, "explanation", None)
    if explanation:
        text = str(explanation)
    # Full 64-digit container ids help nobody reading a message; Docker's short form does.
    text = _LONG_ID.sub(lambda m: m.group(0)[:12], text)
    return text or type(exc).__name__


@dataclass
class _Callbacks:
    on_done: Callable[[Any], None]
    on_error: Callable[[str], None]
    on_progress: Callable[[int, int], None] | None
    signals: _JobSignals


class JobRunner(QObject):
    """Submits callables to the file pool; their outcomes come back as GUI-thread callbacks."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Callbacks] = {}

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> int:
        return self._start(fn, on_done, on_error, None)

    def submit_with_progress(
        self,
        fn: Callable[[ProgressFn], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
        on_progress: Callable[[int, int], None],
    ) -> int:
        return self._start(fn, on_done, on_error, on_progress)

    def forget_all(self) -> None:
        """Drop the callbacks of every job in flight; their results will be discarded."""
        self._pending.clear()

    def pending_count(self) -> int:
        return len(self._pending)

    def _start(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
        on_progress: Callable[[int, int], None] | None,
    ) -> int:
        job_id = next(self._ids)
        signals = _JobSignals()
        # Queued explicitly: emitted on a pool thread, handled on the GUI thread.
        signals.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        signals.failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)
        signals.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        # Kept here until the outcome arrives, so the emitter dies on the GUI thread.
        self._pending[job_id] = _Callbacks(on_done, on_error, on_progress, signals)
        file_pool().start(_Job(job_id, signals, fn, on_progress is not None))
        return job_id

    @Slot(int, object)
    def _on_done(self, job_id: int, result: object) -> None:
        callbacks = self._pending.pop(job_id, None)
        if callbacks is not None:
            callbacks.on_done(result)

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        callbacks = self._pending.pop(job_id, None)
        if callbacks is not None:
            callbacks.on_error(message)

    @Slot(int, int, int)
    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        callbacks = self._pending.get(job_id)
        if callbacks is not None and callbacks.on_progress is not None:
            callbacks.on_progress(done, total)
