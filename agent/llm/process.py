"""The LLM helper process as its parent sees it: ``LLM`` calls that go through it.

A front end whose threads must never wait on litellm (the window) calls
``use_helper_process()`` once, early; from then on every ``LLM.completion``,
``count_tokens`` and model-window lookup in this process is answered by the helper
(agent/llm/helper.py), and this process never imports litellm. The SDK and ``berth run``
do not call it: for them litellm runs in their own process, as before.

The helper is started on first use (or by ``start()`` ahead of it: the window does so
once it has shown, so the helper's seconds of import are spent before the first send).
If it stops (killed, out of memory), the attempt that was waiting fails as a retryable
error the retry loop tries again, and the next request starts a new helper. A helper that
is there but does not answer (SIGSTOPped, wedged) is ended the same way: a watchdog ends one
that has not beaten for ``stall_after`` seconds, and a request past its own timeout (the
LLM's, plus a grace) ends the helper that holds it.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Any, Protocol

from agent import background
from agent.llm.stream import DeltaCallback, StreamDelta
from agent.llm.types import FailedAttempt, LLMCancelled, LLMResponse

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often a waiting call looks at its cancel event
STOP_WAIT_S = 2.0
# Silence (no beat, no answer) after which the helper is taken for frozen; it beats every
# half second (agent.llm.helper.BEAT_S), even while litellm imports.
STALL_S = 10.0
WATCH_S = 0.25
# Past the LLM's own timeout, how long an attempt may still take (litellm's retry of a
# broken stream, a slow provider's last bytes) before the helper is taken for stuck.
GRACE_S = 30.0
# count_tokens and the model's window: the first one may wait for litellm's import.
LOOKUP_TIMEOUT_S = 120.0


class HelperRequest(Protocol):
    """A model as the helper takes it (an ``LLM`` is one): this module needs no more of it,
    so it does not import the model's module, which imports this one."""

    timeout: float

    def helper_request(self) -> dict[str, Any]: ...


_helper: LLMHelper | None = None
_helper_lock = threading.Lock()


def use_helper_process() -> LLMHelper:
    """Route this process's LLM calls through the helper from now on; returns it."""
    global _helper
    with _helper_lock:
        if _helper is None:
            _helper = LLMHelper()
            atexit.register(_helper.stop)
        return _helper


def running_helper() -> LLMHelper | None:
    """The helper, if this process routes its LLM calls through one."""
    return _helper


def helper_command() -> list[str]:
    """How to start the helper: the bundle's own executable, or this interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--llm-helper"]
    return [sys.executable, "-m", "agent.llm.helper"]


class HelperStopped(Exception):
    """The helper process ended while a request waited for it."""


class _Waiting:
    def __init__(
        self, process: subprocess.Popen[str] | None, on_delta: DeltaCallback | None = None
    ) -> None:
        self.process = process  # the helper asked: only its end wakes this one unanswered
        self.done = threading.Event()
        self.answer: dict[str, Any] | None = None
        self.on_delta = on_delta  # a streamed attempt's pieces, as they come


class LLMHelper:
    """One helper process, started when needed; calls from any thread."""

    def __init__(self, command: list[str] | None = None, stall_after: float = STALL_S) -> None:
        self._command = command or helper_command()
        self.stall_after = stall_after
        self._heard = 0.0  # when the running helper last said anything (time.monotonic)
        self._why: dict[int, str] = {}  # pid -> why Berth ended that helper
        self._lock = threading.Lock()  # the process and who waits on it
        self._write_lock = threading.Lock()  # one request line at a time into its stdin
        self._process: subprocess.Popen[str] | None = None
        self._waiting: dict[int, _Waiting] = {}
        self._ids = itertools.count(1)
        self.starts = 0  # how many helper processes were started (a restart counts)

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    # --- what LLM asks ----------------------------------------------------------------------

    def attempt(
        self,
        llm: HelperRequest,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        cancel: threading.Event,
        attempts: int,
        on_delta: DeltaCallback | None = None,
    ) -> LLMResponse | FailedAttempt:
        request = {
            "op": "attempt",
            **llm.helper_request(),
            "messages": messages,
            "tools": tools,
            "attempts": attempts,
            "stream_deltas": on_delta is not None,
        }
        try:
            answer = self._call(request, cancel, timeout=llm.timeout + GRACE_S, on_delta=on_delta)
        except HelperStopped as exc:
            return FailedAttempt(retryable=True, message=str(exc))
        if "response" in answer:
            return LLMResponse.model_validate(answer["response"])
        if "failed" in answer:
            return FailedAttempt.model_validate(answer["failed"])
        return FailedAttempt(retryable=False, message=f"Berth's LLM helper: {answer.get('error')}")

    def count_tokens(self, model: str, messages: list[dict[str, Any]]) -> int:
        """litellm's count; if the helper cannot give it, the request's length in bytes (no
        count of tokens is higher: the window is never overrun on a guess)."""
        try:
            answer = self._call({"op": "count_tokens", "model": model, "messages": messages})
        except HelperStopped:
            answer = {}
        if not isinstance(answer.get("tokens"), int):
            log.warning("counting tokens by bytes: %s", answer.get("error", "the helper stopped"))
            return len(json.dumps(messages).encode())
        return int(answer["tokens"])

    def known_window(self, model: str) -> int | None:
        try:
            answer = self._call({"op": "window", "model": model})
        except HelperStopped:
            return None
        window = answer.get("window")
        return int(window) if isinstance(window, int) else None

    def reads_images(self, model: str) -> bool:
        try:
            answer = self._call({"op": "images", "model": model})
        except HelperStopped:
            return True
        return answer.get("images") is not False

    # --- the process ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the helper unless it runs (cheap when it does)."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
            process = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                bufsize=1,
                env=env,
                # A windowed app's helper must not open a console window of its own.
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
            self._process = process
            self._heard = time.monotonic()
            self.starts += 1
        background.start("llm-helper-reader", lambda: self._read(process), daemon=True)
        background.start("llm-helper-watchdog", lambda: self._watch(process), daemon=True)

    def stop(self) -> None:
        """End the helper (its stdin closes; killed if it does not go)."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(STOP_WAIT_S)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()

    def _call(
        self,
        request: dict[str, Any],
        cancel: threading.Event | None = None,
        timeout: float = LOOKUP_TIMEOUT_S,
        on_delta: DeltaCallback | None = None,
    ) -> dict:
        try:
            self.start()
        except OSError as exc:  # the executable is missing or cannot run
            raise HelperStopped(f"Berth's LLM helper process could not start: {exc}") from exc
        request_id = next(self._ids)
        with self._lock:
            process = self._process
            waiting = _Waiting(process, on_delta)
            self._waiting[request_id] = waiting
        deadline = time.monotonic() + timeout
        try:
            self._send(process, {"id": request_id, **request})
            while not waiting.done.wait(POLL_S):
                if cancel is not None and cancel.is_set():
                    self._send(process, {"id": next(self._ids), "op": "cancel", "of": request_id})
                    raise LLMCancelled()
                if time.monotonic() > deadline:
                    self._end(process, f"it gave no answer within {timeout:.0f} s")
                    raise HelperStopped(self._stopped_text(process))
        finally:
            with self._lock:
                self._waiting.pop(request_id, None)
        if waiting.answer is None:
            raise HelperStopped(self._stopped_text(process))
        return waiting.answer

    def _send(self, process: subprocess.Popen[str] | None, message: dict[str, Any]) -> None:
        line = json.dumps(message) + "\n"
        try:
            with self._write_lock:  # not self._lock: a long write must not hold up answers
                if process is None or process.stdin is None:
                    raise BrokenPipeError
                process.stdin.write(line)
                process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise HelperStopped(self._stopped_text(process)) from None

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if self._process is process:
                self._heard = time.monotonic()
            try:
                answer = json.loads(line)
            except ValueError:
                log.warning("LLM helper wrote a line that is not JSON: %.200s", line)
                continue
            if answer.get("beat"):
                continue
            with self._lock:
                waiting = self._waiting.get(int(answer.get("id", 0)))
            if waiting is None:
                continue
            if "delta" in answer:
                _hand_on(waiting, answer["delta"])
                continue
            waiting.answer = answer
            waiting.done.set()
        # Its output ended: the process is gone. Whoever still waits on it hears so.
        process.wait()
        with self._lock:
            if self._process is process:
                self._process = None
            left = [w for w in self._waiting.values() if w.process is process]
        for waiting in left:
            waiting.done.set()

    def _watch(self, process: subprocess.Popen[str]) -> None:
        """End the helper once it has been silent for ``stall_after`` seconds."""
        while process.poll() is None and self._process is process:
            time.sleep(WATCH_S)
            silent = time.monotonic() - self._heard
            if silent > self.stall_after and self._process is process:
                self._end(process, f"it gave no sign of life for {silent:.0f} s (frozen?)")
                return

    def _end(self, process: subprocess.Popen[str] | None, why: str) -> None:
        """Kill a helper that stopped answering: whoever waits on it hears ``why``, and the
        next call starts a new one."""
        if process is None:
            return
        with self._lock:
            if self._process is process:
                self._process = None
            self._why[process.pid] = why
        log.warning("ending the LLM helper (pid %s): %s", process.pid, why)
        with contextlib.suppress(OSError):
            process.kill()  # SIGKILL ends a SIGSTOPped process too

    def _stopped_text(self, process: subprocess.Popen[str] | None) -> str:
        if process is not None and process.pid in self._why:
            return (
                f"Berth's LLM helper process stopped answering ({self._why[process.pid]}); "
                "it was ended, and a new one takes the next try"
            )
        code = process.poll() if process is not None else None
        how = f" (exit code {code})" if code is not None else ""
        return f"Berth's LLM helper process stopped{how}"


def _hand_on(waiting: _Waiting, delta: Any) -> None:
    """A piece of a streamed reply, to the caller's token callback (on the reader's
    thread: a callback must be quick, as the session's are)."""
    if waiting.on_delta is None or waiting.done.is_set():
        return
    try:
        waiting.on_delta(StreamDelta.model_validate(delta))
    except Exception:
        log.exception("a token callback failed")
