"""What the browser needs of a workspace: the file half of sandbox.DockerWorkspace.

A Protocol rather than the class itself keeps this package importable (and typed) without
pulling the Docker SDK into every GUI import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol


class EntryLike(Protocol):
    # Read-only members: sandbox.FileEntry's `kind` is a Literal, which a mutable `str`
    # member would not accept.
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def kind(self) -> str: ...  # "file" | "dir" | "symlink" | "other"
    @property
    def size(self) -> int: ...
    @property
    def mtime(self) -> datetime: ...
    @property
    def mode(self) -> int: ...


class FileWorkspace(Protocol):
    def list_dir(self, path: str) -> Sequence[EntryLike]: ...  # pragma: no cover - protocol

    def read_bytes(self, path: str, limit: int = ...) -> bytes: ...  # pragma: no cover - protocol

    def upload(
        self,
        host_path: str | os.PathLike[str],
        container_dir: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> None: ...  # pragma: no cover - protocol

    def download(
        self,
        container_path: str,
        host_dir: str | os.PathLike[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> Path: ...  # pragma: no cover - protocol
