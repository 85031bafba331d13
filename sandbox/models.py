"""Values the sandbox hands to its callers: command results and directory entries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class CommandResult(BaseModel):
    """What one ``execute()`` call saw."""

    output: str
    exit_code: int | None  # None while the command is still running
    cwd: str
    still_running: bool = False  # the no-output timeout hit; the command goes on
    timed_out: bool = False  # the hard timeout hit: the command's process group was killed
    interrupted: bool = False  # interrupt() (or C-c) ended it
    truncated: bool = False  # the middle of the output was cut
    out_of_memory: bool = False  # the kernel's OOM killer ended it (the memory limit)


FileKind = Literal["file", "dir", "symlink", "other"]


class FileEntry(BaseModel):
    """One entry of a container folder, as ``ls -l`` would show it."""

    name: str
    path: str
    kind: FileKind
    size: int
    mtime: datetime
    mode: int  # permission bits (0o7777), as in stat's st_mode & 0o7777
