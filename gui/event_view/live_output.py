"""A bounded buffer for output that streams in before a command finishes.

``yes`` would print forever; the row only ever shows a head and a tail, so the buffer keeps
the first and the last stretch of characters and counts what fell out in between.
"""

from __future__ import annotations


class LiveOutput:
    HEAD_LIMIT = 32_000
    TAIL_LIMIT = 32_000

    __slots__ = ("_dropped", "_head", "_tail_parts", "_tail_size")

    def __init__(self) -> None:
        self._head = ""
        self._tail_parts: list[str] = []
        self._tail_size = 0
        self._dropped = 0

    def append(self, chunk: str) -> None:
        if not chunk:
            return
        room = self.HEAD_LIMIT - len(self._head)
        if room > 0 and not self._tail_parts:
            self._head += chunk[:room]
            chunk = chunk[room:]
            if not chunk:
                return
        self._tail_parts.append(chunk)
        self._tail_size += len(chunk)
        if self._tail_size > 2 * self.TAIL_LIMIT:
            tail = "".join(self._tail_parts)
            self._dropped += len(tail) - self.TAIL_LIMIT
            self._tail_parts = [tail[-self.TAIL_LIMIT :]]
            self._tail_size = self.TAIL_LIMIT

    @property
    def dropped(self) -> int:
        """Characters received but no longer kept."""
        return self._dropped

    def __bool__(self) -> bool:
        return bool(self._head)

    def text(self) -> str:
        tail = "".join(self._tail_parts)
        if self._dropped:
            return f"{self._head}\n[… {self._dropped:,} characters not kept …]\n{tail}"
        return self._head + tail
