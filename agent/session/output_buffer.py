"""Live output chunks gathered on engine threads and drained by a watcher in one go."""

from __future__ import annotations

import threading


class OutputBuffer:
    """Chunks by tool call, in order; only the first chunk after a drain asks for one, so
    a command that prints a thousand lines a second posts a handful of wake-ups."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: list[tuple[str, str]] = []

    def add(self, tool_call_id: str, chunk: str) -> bool:
        """Store a chunk; True when the caller should ask for a drain."""
        with self._lock:
            first = not self._chunks
            if self._chunks and self._chunks[-1][0] == tool_call_id:
                self._chunks[-1] = (tool_call_id, self._chunks[-1][1] + chunk)
            else:
                self._chunks.append((tool_call_id, chunk))
            return first

    def drain(self) -> list[tuple[str, str]]:
        with self._lock:
            chunks, self._chunks = self._chunks, []
            return chunks
