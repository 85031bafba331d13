"""JSON read and written in slices, so a big document does not hold the GIL in one go.

``json.loads`` and ``json.dumps`` are single C calls: on a document of megabytes they hold
the GIL for 30-50 ms (more on a loaded machine), and every other thread, a GUI thread
first, waits that long. litellm does four such calls while it imports (its price list,
its Anthropic tokenizer read and written back). The app imports litellm in its helper
process (agent/llm_process.py); a program that imports it beside a window of its own (a
window made without ``run_app``, an embedding program) still meets them on that window.

Here a document is walked a few levels down in Python, with the C decoder and encoder
called on each value below that: the same result, byte for byte, in calls of a
millisecond or so, between which the interpreter hands the GIL to whoever waits.
``in_slices_on_this_thread`` puts that in place of ``json.loads``/``json.dumps`` for the
calling thread only, for as long as an import takes.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

# Below this many characters a document is read in one call: it is quick anyway.
LARGE = 256 * 1024
# How many levels are walked in Python: enough to reach the big parts of the documents
# litellm reads ({"model": {"vocab": {...}}}), few enough that the walk stays cheap.
DEPTH = 3

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_ENCODE = json.JSONEncoder().encode
# One thread at a time puts its stand-ins in place (two would restore each other's).
_SWAP = threading.Lock()


def loads_in_slices(text: str | bytes | bytearray, depth: int = DEPTH) -> Any:
    """What ``json.loads(text)`` returns (or raises), read one value at a time."""
    if not isinstance(text, str):
        text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
    elif text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    start = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    value, end = _read(text, start, depth)
    end = _SPACE.match(text, end).end()  # type: ignore[union-attr]
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _skip(text: str, at: int) -> int:
    return _SPACE.match(text, at).end()  # type: ignore[union-attr]


def _read(text: str, at: int, depth: int) -> tuple[Any, int]:
    opening = text[at : at + 1]
    if depth <= 0 or opening not in ("{", "["):
        return _DECODER.raw_decode(text, at)
    closing = "}" if opening == "{" else "]"
    items: dict[str, Any] = {}
    values: list[Any] = []
    at = _skip(text, at + 1)
    if text[at : at + 1] == closing:
        return (items if opening == "{" else values), at + 1
    while True:
        if opening == "{":
            if text[at : at + 1] != '"':
                raise json.JSONDecodeError(
                    "Expecting property name enclosed in double quotes", text, at
                )
            key, at = _DECODER.raw_decode(text, at)
            at = _skip(text, at)
            if text[at : at + 1] != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", text, at)
            items[key], at = _read(text, _skip(text, at + 1), depth - 1)
        else:
            value, at = _read(text, at, depth - 1)
            values.append(value)
        at = _skip(text, at)
        delimiter = text[at : at + 1]
        if delimiter == closing:
            return (items if opening == "{" else values), at + 1
        if delimiter != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, at)
        at = _skip(text, at + 1)


def dumps_in_slices(value: Any, depth: int = DEPTH) -> str:
    """What ``json.dumps(value)`` returns, written one value at a time."""
    return "".join(_write(value, depth))


def _write(value: Any, depth: int) -> Iterator[str]:
    if depth > 0 and isinstance(value, dict) and all(isinstance(k, str) for k in value):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield (", " if index else "") + _ENCODE(key) + ": "
            yield from _write(item, depth - 1)
        yield "}"
    elif depth > 0 and isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ", "
            yield from _write(item, depth - 1)
        yield "]"
    else:
        yield _ENCODE(value)


@contextlib.contextmanager
def in_slices_on_this_thread() -> Iterator[None]:
    """While inside: large documents read or written through ``json.loads``/``json.load``/
    ``json.dumps`` with default options, on this thread, go in slices. Other threads, other
    options and small documents get the standard functions.

    A module imported meanwhile that binds the functions by name (``from json import
    loads``) keeps the stand-ins; they pass every call through once this ends. While
    another thread is inside, this does nothing (that thread holds the import anyway)."""
    if not _SWAP.acquire(blocking=False):
        yield
        return
    original_loads, original_dumps = json.loads, json.dumps
    owner = threading.get_ident()
    active = True

    def loads(text: Any, **options: Any) -> Any:
        if (
            active
            and threading.get_ident() == owner
            and isinstance(text, str | bytes | bytearray)
            and len(text) >= LARGE
            and all(option is None for option in options.values())
        ):
            return loads_in_slices(text)
        return original_loads(text, **options)

    def dumps(value: Any, **options: Any) -> str:
        if active and not options and threading.get_ident() == owner and _large(value):
            return dumps_in_slices(value)
        return original_dumps(value, **options)

    # setattr: the stand-ins take the same calls, not the same declared signatures.
    setattr(json, "loads", loads)  # noqa: B010 (json.load calls it too)
    setattr(json, "dumps", dumps)  # noqa: B010
    try:
        yield
    finally:
        active = False
        json.loads, json.dumps = original_loads, original_dumps
        _SWAP.release()


def _large(value: Any) -> bool:
    """Whether a value is worth slicing: a container with a big container in its first
    levels (counting items is cheap; measuring the text would be the cost we avoid)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if len(item) >= 2_000:
            return True
        if level < DEPTH:
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return False
