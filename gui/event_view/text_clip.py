"""Turning raw command output into a few display lines.

A command can print megabytes; a row shows a head and a tail of it and says how much is
hidden, so one row never grows taller than a screenful. Everything here is plain Python
(no Qt), so height arithmetic and painting agree line for line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# CSI sequences (colours, cursor moves) and OSC sequences (window titles, hyperlinks).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# Control characters other than tab and newline would draw as boxes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sanitize(text: str) -> str:
    """Output as a terminal would leave it: no escape codes, carriage-return overwrites."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            # A progress bar rewrites its line: only what was written last stays visible.
            text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
    if "\t" in text:
        text = text.expandtabs(8)
    return _CONTROL.sub("", text)


@dataclass(frozen=True, slots=True)
class ClippedText:
    """The lines a row shows, and where and how many lines were left out."""

    lines: tuple[str, ...]
    hidden: int = 0
    # Index in ``lines`` before which the "… N more lines" note is drawn.
    hidden_at: int = 0
    total: int = 0


def clip_lines(text: str, *, head: int, tail: int, max_chars: int) -> ClippedText:
    """The first ``head`` and last ``tail`` lines of ``text``, each at most ``max_chars``."""
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return ClippedText(lines=(), total=0)
    total = text.count("\n") + 1
    if total <= head + tail + 1:
        # Hiding a single line would cost as much room as the note that says so.
        lines = text.split("\n")
        hidden = 0
        hidden_at = len(lines)
    else:
        first = text.split("\n", head)[:head]
        last = text.rsplit("\n", tail)[1:] if tail else []
        lines = first + last
        hidden = total - head - tail
        hidden_at = head
    return ClippedText(
        lines=tuple(_clip_line(line, max_chars) for line in lines),
        hidden=hidden,
        hidden_at=hidden_at,
        total=total,
    )


def _clip_line(line: str, max_chars: int) -> str:
    if len(line) <= max_chars:
        return line
    return f"{line[: max_chars - 1]}…"


def wrapped_count(length: int, columns: int) -> int:
    """How many visual lines a line of ``length`` characters takes at ``columns`` wide."""
    return max(1, math.ceil(length / columns))


def wrap(line: str, columns: int) -> list[str]:
    """``line`` cut every ``columns`` characters (monospace text wraps like a terminal)."""
    if len(line) <= columns:
        return [line]
    return [line[i : i + columns] for i in range(0, len(line), columns)]


def more_lines_note(hidden: int) -> str:
    return f"… {hidden:,} more line{'s' if hidden != 1 else ''}"
