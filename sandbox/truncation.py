"""Keep the head and tail of a command's output, so a flood never fills memory."""

from __future__ import annotations

from collections import deque

OUTPUT_LIMIT = 30_000


class MiddleTruncator:
    """Accumulates text; past ``limit`` characters it keeps the first and last halves."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit
        self._half = limit // 2
        self._head: list[str] = []
        self._head_len = 0
        self._tail: deque[str] = deque()
        self._tail_len = 0
        self.total = 0

    def add(self, text: str) -> None:
        if not text:
            return
        self.total += len(text)
        room = self._half - self._head_len
        if room > 0:
            self._head.append(text[:room])
            self._head_len += min(room, len(text))
            text = text[room:]
        if not text:
            return
        self._tail.append(text)
        self._tail_len += len(text)
        # Drop whole chunks from the left while what remains still covers the tail half.
        while self._tail and self._tail_len - len(self._tail[0]) >= self._half:
            self._tail_len -= len(self._tail.popleft())

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        head = "".join(self._head)
        tail = "".join(self._tail)
        if not self.truncated:
            return head + tail
        tail = tail[-self._half :]
        cut = self.total - len(head) - len(tail)
        return (
            f"{head}\n[... {cut:,} characters cut from the middle of the output "
            f"({self.total:,} in all) ...]\n{tail}"
        )
