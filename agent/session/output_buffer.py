"""Live output chunks gathered on engine threads and drained by a watcher in one go."""

from __future__ import annotations

import threading

from agent.llm.stream import StreamDelta, coalesce


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


class StreamBuffer:
    """Pieces of streamed replies, gathered on the thread reading them and drained by a
    watcher at its own pace (a window: a few times a frame, not once per token). Only the
    first piece after a drain asks for one. Each piece is kept with its request (the
    number of events it was built from), so a watcher still behind on notices never takes
    the next request's first pieces for the end of the last one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._request = 0
        self._deltas: list[tuple[int, StreamDelta]] = []
        self._announced = False

    def begin(self, request_event_count: int) -> None:
        """A new request went out: what comes next is its reply."""
        with self._lock:
            self._request = request_event_count

    def add(self, delta: StreamDelta) -> bool:
        """Store a piece; True when the caller should ask for a drain."""
        with self._lock:
            self._deltas.append((self._request, delta))
            first, self._announced = not self._announced, True
            return first

    def drain(self, request_event_count: int | None = None) -> tuple[int, list[StreamDelta]]:
        """The pieces of that request (None: the latest one), joined where they can be;
        older requests' pieces are dropped, newer ones kept for their own drain."""
        with self._lock:
            request = self._request if request_event_count is None else request_event_count
            taken = [delta for number, delta in self._deltas if number == request]
            self._deltas = [(number, d) for number, d in self._deltas if number > request]
            self._announced = False
        return request, coalesce(taken)
