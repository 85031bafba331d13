"""A clock that stands still while the container is frozen, so timeouts only count live time."""

from __future__ import annotations

import threading
import time


class ActiveClock:
    """Monotonic seconds, minus every span spent between ``pause()`` and ``resume()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paused_total = 0.0
        self._paused_since: float | None = None

    def now(self) -> float:
        with self._lock:
            current = self._paused_since if self._paused_since is not None else time.monotonic()
            return current - self._paused_total

    @property
    def paused(self) -> bool:
        return self._paused_since is not None

    def pause(self) -> None:
        with self._lock:
            if self._paused_since is None:
                self._paused_since = time.monotonic()

    def resume(self) -> None:
        with self._lock:
            if self._paused_since is not None:
                self._paused_total += time.monotonic() - self._paused_since
                self._paused_since = None
