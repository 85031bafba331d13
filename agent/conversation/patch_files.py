"""A git patch (``conversation.patch()``) as one ``FileChange`` per file, so the Changes
view lists a comparison with the starting commit as it lists one with a checkpoint."""

from __future__ import annotations

import re

from sandbox.checkpoints.models import ChangeKind, FileChange

_HEADER = re.compile(r"^diff --git (?P<a>\"?a/.*?\"?) (?P<b>\"?b/.*?\"?)$")
_MODE = re.compile(r"^(old|new|new file|deleted file) mode (?P<mode>[0-7]+)$")


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        name = name.encode("latin-1", "replace").decode("utf-8", "replace")
    return name[2:]  # "a/" or "b/"


def _one(lines: list[str], root: str) -> FileChange:
    header = _HEADER.match(lines[0])
    old_name = _unquote(header.group("a")) if header else ""
    new_name = _unquote(header.group("b")) if header else old_name
    kind: ChangeKind = "modified"
    modes: dict[str, int] = {}
    binary = False
    body_at = len(lines)
    for number, line in enumerate(lines[1:], start=1):
        if line.startswith(("--- ", "@@")):
            body_at = number
            break
        mode = _MODE.match(line)
        if mode:
            which = mode.group(1)
            kind = (
                "added" if which == "new file" else "deleted" if which == "deleted file" else kind
            )
            modes["old" if which in ("old", "deleted file") else "new"] = int(mode.group("mode"), 8)
        elif line.startswith("rename to "):
            new_name = line[len("rename to ") :]
        elif line.startswith(("Binary files ", "GIT binary patch")):
            binary = True
    name = old_name if kind == "deleted" else new_name
    diff = "\n".join(lines[body_at:]) + "\n" if body_at < len(lines) and not binary else None
    return FileChange(
        path=f"{root}/{name}",
        kind=kind,
        old_mode=modes.get("old"),
        new_mode=modes.get("new"),
        binary=binary,
        diff=diff,
        note="Binary file: see the saved patch" if binary else None,
    )


def split_patch(text: str, root: str = "/workspace") -> list[FileChange]:
    """The files a ``git diff`` names, each with its own part of the diff."""
    chunks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("diff --git "):
            chunks.append([line])
        elif chunks:
            chunks[-1].append(line)
    return [_one(chunk, root) for chunk in chunks]
