"""What a model server's odd answers mean, in one sentence, and when it asks to wait.

Real servers and the proxies in front of them answer with HTML login or error pages, empty
bodies, or JSON without ``choices``; litellm reports each in its own words (or the parse
fails with an IndexError). Each becomes one sentence a user can act on. Retry-After (in
seconds or as an HTTP date, or retry-after-ms) says how long to wait before trying again.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any, NamedTuple


class NoChoicesError(Exception):
    """The reply parsed, but held no choice to act on."""

    def __str__(self) -> str:
        return "no 'choices'"


class OddReply(NamedTuple):
    sentence: str
    retryable: bool | None  # None: as the HTTP status says (a gateway's page may pass)


def odd_reply(exc: BaseException, base_url: str | None) -> OddReply | None:
    """The sentence for an answer that is not a model reply, or None for other errors."""
    text = str(exc)
    where = f"The server at {base_url}" if base_url else "The model's server"
    headers = _headers(exc)
    html = "<html" in text.lower() or "text/html" in str(headers.get("content-type", ""))
    if html:
        return OddReply(
            f"{where} answered with a web page (HTML), not a model reply: check the base URL "
            "(an OpenAI-compatible one usually ends in /v1) and any proxy or login in front "
            "of it.",
            retryable=None,
        )
    if isinstance(exc, NoChoicesError) or "no 'choices'" in text or "'choices'" in text:
        return OddReply(
            f"{where} answered without any choices, so there was no reply to act on; "
            "retrying may help, else check the model name.",
            retryable=True,
        )
    if "Expecting value" in text or "Empty or invalid response" in text:
        return OddReply(
            f"{where} sent an empty or unreadable reply (not JSON); retrying may help, else "
            "check the base URL.",
            retryable=True,
        )
    return None


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (Retry-After / retry-after-ms), if it said."""
    headers = _headers(exc)
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _headers(exc: BaseException) -> dict[str, Any]:
    """The response headers litellm kept on the error, keys lower-cased."""
    found: dict[str, Any] = {}
    for source in (getattr(getattr(exc, "response", None), "headers", None),
                   getattr(exc, "litellm_response_headers", None)):  # fmt: skip
        if source:
            try:
                found.update({str(k).lower(): v for k, v in dict(source).items()})
            except (TypeError, ValueError):
                continue
    return found
