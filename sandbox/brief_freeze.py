"""A checkpoint's brief freeze, and how the user's pause takes it over.

A snapshot reads /workspace while the agent's processes would run on; the container is
frozen meanwhile (the engine's pause) and let go after. That freeze is not the user's
pause: the session never shows it, and it must never outlast the snapshot. But the user may
click Pause (or Resume) in the middle of it, and neither may wait for the snapshot:

- a pause during a brief freeze takes it over: the container is frozen already, the pause
  says so at once, and the freeze is not undone when the snapshot ends;
- a resume of such a pause hands it back: the container thaws when the snapshot ends.

The brief freeze holds the exec gate from before it freezes until after it thaws: an exec
that meets a freeze while it starts wedges the engine (see sandbox/exec_start.py), and
none may start in a frozen container anyway.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

import docker.errors
from docker.models.containers import Container

from sandbox import pause_modes
from sandbox.clock import ActiveClock

log = logging.getLogger(__name__)

GATE_POLL_S = 0.01


class BriefFreeze:
    """Who froze the container: a checkpoint (``active``), and whether a pause took it over."""

    def __init__(self, exec_gate: threading.RLock, clock: ActiveClock) -> None:
        self._gate = exec_gate
        self._clock = clock
        self._lock = threading.Lock()  # the hand-over between a brief freeze and a pause
        self.active = False
        self._taken_over = False

    @contextlib.contextmanager
    def held(self, container: Container, unpaused: Callable[[], bool]) -> Iterator[bool]:
        """Freeze ``container`` while the body runs, then thaw it unless a pause took the
        freeze over. Yields whether it froze: not when ``unpaused()`` says a pause holds it
        already, nor when the engine could not freeze it (the snapshot then reads live)."""
        with self._gate:
            with self._lock:
                reason = "paused" if not unpaused() else ""
                if not reason:
                    self._clock.pause()
                    reason = pause_modes.freeze(container)
                    if reason:
                        self._clock.resume()
                        log.warning("a snapshot reads a live container: %s", reason)
                    else:
                        self.active, self._taken_over = True, False
            try:
                yield not reason
            finally:
                if not reason:
                    self._let_go(container)

    def _let_go(self, container: Container) -> None:
        with self._lock:
            self.active = False
            if self._taken_over:
                return
            try:
                container.unpause()
            except docker.errors.NotFound:
                pass  # removed meanwhile: nothing left to thaw
            except docker.errors.APIError as exc:
                if "not paused" not in str(exc):
                    log.warning("could not thaw after a snapshot: %s", exc)
            self._clock.resume()

    @contextlib.contextmanager
    def pause_gate(self) -> Iterator[bool]:
        """The exec gate, for a pause about to freeze or stop the container; or, while a
        brief freeze holds the gate, that freeze: yields True then (the container is frozen
        already, and stays frozen when the snapshot ends)."""
        while True:
            with self._lock:
                if self.active:
                    self._taken_over = True
                    yield True
                    return
            if self._gate.acquire(timeout=GATE_POLL_S):
                try:
                    yield False
                finally:
                    self._gate.release()
                return

    def hand_back(self) -> bool:
        """A resume: True when a brief freeze still holds the container, which then thaws
        as the snapshot ends (the caller must not thaw it now)."""
        with self._lock:
            if self.active and self._taken_over:
                self._taken_over = False
                return True
            return False
