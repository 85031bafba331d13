"""Pure text operations behind the file editor: decoding, numbering, replacing, diffs.

Nothing here touches a container, so all of it is tested on arbitrary text. Lines are split
on "\\n" only (as `cat -n` and `sed` count them), never on the other characters
`str.splitlines` treats as line breaks.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

SNIPPET_CONTEXT = 4


class NotTextError(ValueError):
    """The bytes are not UTF-8 text (binary data, or another encoding)."""


@dataclass(frozen=True)
class TextFile:
    """A file's text with its line ending normalised to "\\n" for editing.

    CRLF files are edited as LF text and written back as CRLF, so the model's "\\n" in
    old_str matches and the file keeps its convention.
    """

    text: str
    newline: str = "\n"

    @classmethod
    def decode(cls, data: bytes) -> TextFile:
        if b"\x00" in data:
            raise NotTextError("it contains NUL bytes (a binary file)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotTextError(
                f"it is not valid UTF-8 (byte {exc.start}); it is binary or in another encoding"
            ) from exc
        crlf = text.count("\r\n")
        # "\r\r\n" would leave a CRLF in the LF editing form: such a file is edited raw.
        if crlf and crlf == text.count("\n") and "\r\r\n" not in text:
            return cls(text.replace("\r\n", "\n"), "\r\n")
        return cls(text)

    def encode(self, text: str | None = None) -> bytes:
        body = self.text if text is None else text
        if self.newline != "\n":
            body = body.replace("\n", self.newline)
        return body.encode("utf-8")

    def normalise(self, fragment: str) -> str:
        """A fragment from the model in this file's editing form (LF line ends)."""
        return fragment.replace("\r\n", "\n") if self.newline == "\r\n" else fragment


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their "\\n"; a final newline ends the last line."""
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return lines


def line_count(text: str) -> int:
    return len(split_lines(text))


def line_of_offset(text: str, offset: int) -> int:
    """1-based line number of the character at ``offset``."""
    return text.count("\n", 0, offset) + 1


def number_lines(lines: list[str], start: int = 1) -> str:
    """`cat -n` format: right-aligned number, a tab, the line."""
    return "\n".join(f"{n:6}\t{line}" for n, line in enumerate(lines, start))


def find_occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of every occurrence of ``needle``, overlapping ones included."""
    found: list[int] = []
    start = text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def whitespace_insensitive_match(text: str, needle: str) -> int | None:
    """Line where ``needle`` would match if each line's surrounding whitespace were ignored.

    Used only to tell the model why its old_str failed (usually indentation).
    """
    wanted = [line.strip() for line in split_lines(needle) if line.strip()]
    if not wanted:
        return None
    stripped = [line.strip() for line in split_lines(text)]
    for i in range(len(stripped)):
        if stripped[i] != wanted[0]:
            continue
        j, k = i, 0
        while j < len(stripped) and k < len(wanted):
            if not stripped[j]:
                j += 1
                continue
            if stripped[j] != wanted[k]:
                break
            j += 1
            k += 1
        if k == len(wanted):
            return i + 1
    return None


def replace_at(text: str, offset: int, old: str, new: str) -> str:
    return text[:offset] + new + text[offset + len(old) :]


def insert_after_line(text: str, line: int, new: str) -> str:
    """Insert ``new`` as whole lines after line ``line`` (0 = at the top).

    ``new`` gets a line end if it lacks one. Appending to a file whose last line has no
    newline keeps it that way: the old last line gets one, the inserted text does not
    (unless its last line is empty, which only a newline can express).
    """
    lines = split_lines(text)
    if not 0 <= line <= len(lines):
        raise ValueError(f"line {line} is outside 0..{len(lines)}")
    block = new if new.endswith("\n") else new + "\n"
    if line == len(lines):
        if text and not text.endswith("\n"):
            # An empty last line cannot exist without its newline: then the file gains one.
            empty_last = block == "\n" or block.endswith("\n\n")
            tail = block if empty_last else block[:-1]
            return text + "\n" + tail
        return text + block
    head = "".join(f"{ln}\n" for ln in lines[:line])
    return head + block + text[len(head) :]


def changed_line_span(old: str, new: str) -> tuple[int, int]:
    """1-based first and last line of ``new`` that differ from ``old``.

    When lines were only removed, the span is the line after the removal (clamped), so a
    snippet still shows where it happened.
    """
    old_lines, new_lines = split_lines(old), split_lines(new)
    first = 0
    limit = min(len(old_lines), len(new_lines))
    while first < limit and old_lines[first] == new_lines[first]:
        first += 1
    tail = 0
    while (
        tail < limit - first
        and old_lines[len(old_lines) - 1 - tail] == new_lines[len(new_lines) - 1 - tail]
    ):
        tail += 1
    last = len(new_lines) - tail
    start = first + 1
    if last < start:  # a pure deletion (or no change at all)
        last = start
    return min(start, max(len(new_lines), 1)), min(last, max(len(new_lines), 1))


def snippet(
    text: str, first: int, last: int, context: int = SNIPPET_CONTEXT, max_lines: int = 60
) -> str:
    """Numbered lines ``first..last`` of ``text`` with ``context`` lines either side.

    A change longer than ``max_lines`` shows its start and end with a marker between, so a
    large edit's reply stays short (the diff has it all).
    """
    lines = split_lines(text)
    if not lines:
        return "(the file is now empty)"
    lo = max(1, first - context)
    hi = min(len(lines), last + context)
    if hi - lo + 1 <= max_lines:
        return number_lines(lines[lo - 1 : hi], lo)
    half = max_lines // 2
    head = number_lines(lines[lo - 1 : lo - 1 + half], lo)
    tail = number_lines(lines[hi - half : hi], hi - half + 1)
    return f"{head}\n   ...\t[{hi - lo + 1 - 2 * half} lines not shown]\n{tail}"


def unified_diff(old: str, new: str, path: str) -> str:
    """A `diff -u` of two texts, with git's marker for a missing final newline."""
    old_lines = _keep_ends(old)
    new_lines = _keep_ends(new)
    out: list[str] = []
    for line in difflib.unified_diff(old_lines, new_lines, f"a{path}", f"b{path}"):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _keep_ends(text: str) -> list[str]:
    """Lines split on "\\n" only, each keeping its "\\n" (the last may have none)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines
