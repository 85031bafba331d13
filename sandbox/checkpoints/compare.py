"""What changed between two checkpoint trees, and one file's content (runs in the helper,
stdlib only). Iterative (a tree may be as deep as the agent likes), and bounded: a file over
the diff limit is told apart by its hash alone and said to be too large to diff, never
loaded, so the helper's memory does not grow with the agent's files."""

from __future__ import annotations

import base64
import difflib
import os

from sandbox.checkpoints.fdtree import (
    MODE,
    NAME,
    REF,
    SIZE,
    SPARSE,
    TYPE,
    BlobReader,
    Entry,
    Objects,
)

WORKSPACE = "/workspace"
DIFF_LIMIT = 1_000_000  # bytes of one side: larger files are compared by hash only
DIFF_OUTPUT_LIMIT = 200_000  # characters of one unified diff
READ_LIMIT = 64 << 20


def changes(store: Objects, old: str, new: str, diff_limit: int) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    # Each frame: the merged names of one directory on both sides, and where we are in it.
    stack: list[tuple[str, list[tuple[str, Entry | None, Entry | None]], list[int]]] = []

    def push(a: str | None, b: str | None, prefix: str) -> None:
        if a == b:
            return
        before = {str(e[NAME]): e for e in store.tree(a)} if a else {}
        after = {str(e[NAME]): e for e in store.tree(b)} if b else {}
        rows = [(n, before.get(n), after.get(n)) for n in sorted(set(before) | set(after))]
        stack.append((prefix, rows, [0]))

    push(old, new, "")
    while stack:
        prefix, rows, at = stack[-1]
        if at[0] >= len(rows):
            stack.pop()
            continue
        name, a0, b0 = rows[at[0]]
        at[0] += 1
        path = f"{prefix}/{name}"
        a_dir = a0 is not None and a0[TYPE] == "d"
        b_dir = b0 is not None and b0[TYPE] == "d"
        a = None if a_dir else a0
        b = None if b_dir else b0
        if a is not None or b is not None:
            change = _change_or_note(store, WORKSPACE + path, a, b, diff_limit)
            if change is not None:
                found.append(change)
        if a_dir or b_dir:  # its contents come after it
            push(
                str(a0[REF]) if a_dir and a0 else None,
                str(b0[REF]) if b_dir and b0 else None,
                path,
            )
    return found


def _change_or_note(
    store: Objects, path: str, a: Entry | None, b: Entry | None, diff_limit: int
) -> dict[str, object] | None:
    if a is not None and b is not None:
        if a[TYPE] == b[TYPE] and a[REF] == b[REF] and a[MODE] == b[MODE]:
            return None
        kind = "modified"
    else:
        kind = "added" if a is None else "deleted"
    change: dict[str, object] = {
        "path": path,
        "kind": kind,
        "old_size": int(a[SIZE]) if a and a[TYPE] != "l" else 0,
        "new_size": int(b[SIZE]) if b and b[TYPE] != "l" else 0,
        "old_mode": a[MODE] if a else None,
        "new_mode": b[MODE] if b else None,
        "binary": False,
        "diff": None,
    }
    try:
        _diff(store, change, path, a, b, diff_limit)
    except Exception as exc:  # one unreadable file is a note on its row, not a failed list
        change["note"] = f"could not be compared: {type(exc).__name__}: {exc}"
    return change


def _diff(
    store: Objects,
    change: dict[str, object],
    path: str,
    a: Entry | None,
    b: Entry | None,
    limit: int,
) -> None:
    sides = [e for e in (a, b) if e is not None]
    if any(e[TYPE] == "x" for e in sides):
        change["too_large"] = True
        change["note"] = "kept out of the checkpoint: over the size limit"
        return
    if any(e[TYPE] == "f" and int(e[SIZE]) > limit for e in sides):
        change["too_large"] = True  # compared by hash already: told apart, never loaded
        return
    old_text, new_text = _text(_side(store, a)), _text(_side(store, b))
    if old_text is None or new_text is None:
        change["binary"] = True
        return
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile="/dev/null" if a is None else "a" + path,
        tofile="/dev/null" if b is None else "b" + path,
    )
    diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if len(diff) > DIFF_OUTPUT_LIMIT:
        diff = diff[:DIFF_OUTPUT_LIMIT] + "\n... (diff cut: too long)\n"
    change["diff"] = diff


def _side(store: Objects, entry: Entry | None) -> bytes | None:
    if entry is None:
        return b""
    if entry[TYPE] == "l":
        return f"-> {entry[REF]}\n".encode()
    return load(store, entry)


def load(store: Objects, entry: Entry) -> bytes:
    """A file's whole content (the caller has checked its size): holes read as zeros."""
    reader = BlobReader(store.stream(str(entry[REF])))
    size, spans = reader.layout(len(entry) > SPARSE and bool(entry[SPARSE]))
    if size is None:
        return reader.read(int(entry[SIZE]) + 1)
    data = bytearray(size)
    for offset, length in spans:
        data[offset : offset + length] = reader.read(length)
    return bytes(data)


def _text(data: bytes | None) -> str | None:
    if data is None or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read(store: Objects, top: str, path: str, limit: int) -> dict[str, object]:
    """The content of ``path`` (absolute, under /workspace) in the tree ``top``."""
    rel = os.path.relpath(path, WORKSPACE)
    current = top
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    for index, part in enumerate(parts):
        entries = {str(e[NAME]): e for e in store.tree(current)}
        entry = entries.get(part)
        if entry is None:
            raise LookupError(f"{path} is not in that checkpoint")
        if index == len(parts) - 1:
            if entry[TYPE] != "f":
                raise LookupError(f"{path} is not a file in that checkpoint")
            if int(entry[SIZE]) > limit:
                raise ValueError(f"{path} is {entry[SIZE]:,} bytes, over the {limit:,} read here")
            return {"data": base64.b64encode(load(store, entry)).decode()}
        current = str(entry[REF])
    raise LookupError(f"{path} is not a file")
