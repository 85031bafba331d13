"""Berth's LLM helper process: litellm, in a process of its own, answering one JSON line
with another. Started by agent/llm/process.py (``python -m agent.llm.helper``, or
``berth --llm-helper`` in the bundle); ends when its stdin closes (its parent is gone).

Why a process: litellm's import holds the interpreter's lock for tens of milliseconds at a
time (unmarshalling its largest modules, building thousands of pydantic validators), 5-10
seconds of it on a loaded machine, and the window's thread waited through each hold. Here
the holds are this process's own; the window's process never imports litellm.

Requests (one JSON object a line, on stdin), each answered on stdout with its ``id``:

- ``{"id", "op": "attempt", "llm": LLM dump, "api_key", "messages", "tools", "attempts"}``
  -> ``{"id", "response": LLMResponse}`` or ``{"id", "failed": FailedAttempt}``
- ``{"id", "op": "count_tokens", "model", "messages"}`` -> ``{"id", "tokens": int}``
- ``{"id", "op": "window", "model"}`` -> ``{"id", "window": int | null}``
- ``{"id", "op": "cancel", "of": id}``: a streamed attempt stops reading (no answer)

A streamed attempt also writes ``{"id", "delta": StreamDelta}`` lines as the pieces of the
reply arrive, before its answer (the parent hands them to the caller's token callback).

Besides the answers, ``{"id": 0, "beat": true}`` every BEAT_S: the parent's watchdog ends a
helper that goes silent (stopped by a signal, wedged holding the interpreter's lock).

Anything that goes wrong in answering is ``{"id", "error": text}``. Every request runs on
a thread of its own, so several conversations' calls go on at once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from typing import Any, TextIO

from agent import background
from agent.llm.stream import DeltaCallback, StreamDelta

log = logging.getLogger(__name__)

BEAT_S = 0.5


class _Answerer:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._write_lock = threading.Lock()
        self._cancels: dict[int, threading.Event] = {}
        self._cancels_lock = threading.Lock()

    def write(self, message: dict[str, Any]) -> None:
        line = json.dumps(message)
        with self._write_lock:
            self._out.write(line + "\n")
            self._out.flush()

    def take(self, line: str) -> None:
        request = json.loads(line)
        if request.get("op") == "cancel":
            with self._cancels_lock:
                event = self._cancels.get(int(request.get("of", 0)))
            if event is not None:
                event.set()
            return
        cancel = threading.Event()
        with self._cancels_lock:
            self._cancels[int(request["id"])] = cancel
        background.start("llm-request", lambda: self._answer(request, cancel), daemon=True)

    def _answer(self, request: dict[str, Any], cancel: threading.Event) -> None:
        request_id = int(request["id"])
        try:
            answer = self._work(request, cancel, self._delta_writer(request_id, cancel))
        except Exception as exc:
            log.debug("LLM helper request failed", exc_info=True)
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            with self._cancels_lock:
                self._cancels.pop(request_id, None)
        if not cancel.is_set():
            self.write({"id": request_id, **answer})

    def _delta_writer(self, request_id: int, cancel: threading.Event) -> DeltaCallback:
        def write(delta: StreamDelta) -> None:
            if not cancel.is_set():
                self.write({"id": request_id, "delta": delta.model_dump(exclude_defaults=True)})

        return write

    @staticmethod
    def _work(
        request: dict[str, Any], cancel: threading.Event, on_delta: DeltaCallback
    ) -> dict[str, Any]:
        from pydantic import SecretStr

        from agent.llm.model import LLM, count_tokens_here, known_window_here, reads_images_here
        from agent.llm.redact import protect_logs
        from agent.llm.types import LLMCancelled, LLMResponse

        op = request.get("op")
        if op == "count_tokens":
            return {"tokens": count_tokens_here(request["model"], request["messages"])}
        if op == "window":
            return {"window": known_window_here(request["model"])}
        if op == "images":
            return {"images": reads_images_here(request["model"])}
        if op != "attempt":
            raise ValueError(f"unknown request {op!r}")
        key = request.get("api_key")
        llm = LLM.model_validate(request["llm"])
        if key:
            llm.api_key = SecretStr(key)
        protect_logs(key)
        try:
            outcome = llm.attempt_here(
                request["messages"],
                request.get("tools"),
                cancel,
                int(request["attempts"]),
                on_delta if request.get("stream_deltas") else None,
            )
        except LLMCancelled:
            return {"cancelled": True}
        if isinstance(outcome, LLMResponse):
            return {"response": outcome.model_dump(mode="json")}
        return {"failed": outcome.model_dump(mode="json")}


def _warm_up() -> None:
    from agent.llm.model import import_litellm
    from agent.llm.rehearsal import load_tokenizers, rehearse_first_completion

    import_litellm()
    try:
        rehearse_first_completion()
        load_tokenizers()
    except Exception:
        log.debug("rehearsal failed", exc_info=True)


def _beat(answerer: _Answerer) -> None:
    """Say "alive" at a steady pace: a thread that cannot run means the process cannot."""
    stop = threading.Event()
    while not stop.wait(BEAT_S):
        try:
            answerer.write({"id": 0, "beat": True})
        except (OSError, ValueError):  # the parent is gone
            return


def serve(stdin: TextIO | None = None) -> int:
    """Answer requests until stdin closes."""
    # The protocol gets the real stdout (fd 1: a windowed bundle may have no sys.stdout);
    # whatever litellm or a provider prints goes to stderr instead of into it, or nowhere.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    try:
        os.dup2(2, 1)
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    logging.basicConfig(level=logging.WARNING, format="berth llm helper: %(message)s")
    # litellm's import and a rehearsed first call (the rest of what a first request loads)
    # on a thread, while requests are read at once: a user's request that comes first does
    # that work itself instead of waiting behind the rehearsal.
    background.start("llm-warm-up", _warm_up, daemon=True)
    answerer = _Answerer(out)
    background.start("llm-beat", lambda: _beat(answerer), daemon=True)
    for line in stdin or open(0, encoding="utf-8", closefd=False):  # noqa: SIM115
        if line.strip():
            try:
                answerer.take(line)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring a malformed request: %s", exc)
    return 0


if __name__ == "__main__":
    sys.exit(serve())
