"""Per-file undo history for the file editor, bounded so a long run cannot grow it forever."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """One edit: the file's bytes before and after it."""

    before: bytes
    after: bytes


class EditHistory:
    """Undo stacks keyed by path.

    At most ``per_file`` edits per file, ``max_files`` files (least recently edited dropped
    first) and ``max_bytes`` of stored content in total (oldest edits dropped first).
    """

    def __init__(
        self, per_file: int = 10, max_files: int = 64, max_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self.per_file = per_file
        self.max_files = max_files
        self.max_bytes = max_bytes
        self._stacks: OrderedDict[str, deque[Edit]] = OrderedDict()
        self._bytes = 0

    def push(self, path: str, before: bytes, after: bytes) -> None:
        edit = Edit(before, after)
        size = _size(edit)
        if size > self.max_bytes:
            # Too big to keep; an older undo for this file would now restore the wrong
            # state, so forget the file entirely.
            self.forget(path)
            return
        stack = self._stacks.pop(path, None) or deque()
        self._stacks[path] = stack
        if len(stack) == self.per_file:
            self._bytes -= _size(stack.popleft())
        stack.append(edit)
        self._bytes += size
        while len(self._stacks) > self.max_files:
            _, dropped = self._stacks.popitem(last=False)
            self._bytes -= sum(_size(e) for e in dropped)
        while self._bytes > self.max_bytes:
            self._drop_oldest()

    def pop(self, path: str) -> Edit | None:
        stack = self._stacks.get(path)
        if not stack:
            return None
        edit = stack.pop()
        self._bytes -= _size(edit)
        if not stack:
            del self._stacks[path]
        return edit

    def depth(self, path: str) -> int:
        return len(self._stacks.get(path, ()))

    def forget(self, path: str) -> None:
        stack = self._stacks.pop(path, None)
        if stack:
            self._bytes -= sum(_size(e) for e in stack)

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def _drop_oldest(self) -> None:
        path = next(iter(self._stacks))
        stack = self._stacks[path]
        self._bytes -= _size(stack.popleft())
        if not stack:
            del self._stacks[path]


def _size(edit: Edit) -> int:
    return len(edit.before) + len(edit.after)
