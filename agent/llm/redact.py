"""The API key kept out of every text Berth stores or logs, even in pieces.

A provider's error may echo part of the key ("Incorrect API key provided: sk-abc...xyz").
Any run of 8 or more characters that also appears in the key is replaced, so neither the
whole key nor a telling piece of it reaches an event, state.json, the screen or a log.
"""

from __future__ import annotations

import logging
import threading

MIN_PIECE = 8
MASK = "***"

_secrets: set[str] = set()
_lock = threading.Lock()


def redact(text: str, secret: str | None) -> str:
    """``text`` with every substring of ``secret`` of MIN_PIECE+ characters masked."""
    if not secret or not text:
        return text
    if len(secret) < MIN_PIECE:
        return text.replace(secret, MASK)
    pieces = {secret[i : i + MIN_PIECE] for i in range(len(secret) - MIN_PIECE + 1)}
    covered = [False] * len(text)
    for start in range(len(text) - MIN_PIECE + 1):
        if text[start : start + MIN_PIECE] in pieces:
            for i in range(start, start + MIN_PIECE):
                covered[i] = True
    if not any(covered):
        return text
    out: list[str] = []
    for i, char in enumerate(text):
        if not covered[i]:
            out.append(char)
        elif i == 0 or not covered[i - 1]:
            out.append(MASK)
    return "".join(out)


def redact_all(text: str) -> str:
    """``text`` with every key registered by ``protect_logs`` masked."""
    with _lock:
        secrets = list(_secrets)
    for secret in secrets:
        text = redact(text, secret)
    return text


class RedactingFilter(logging.Filter):
    """Masks the registered keys in a record's final message (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_all(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact_all(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = RedactingFilter()


def protect_logs(secret: str | None) -> None:
    """Register ``secret`` and put the filter on every handler of the root and litellm
    loggers (idempotent): whatever is logged through them has the key masked."""
    if not secret:
        return
    with _lock:
        _secrets.add(secret)
    for name in ("", "LiteLLM", "litellm", "LiteLLM Proxy", "LiteLLM Router"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
