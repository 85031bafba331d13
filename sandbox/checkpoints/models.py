"""What the checkpoint store answers, as pydantic models (they cross the helper's socket)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ChangeKind = Literal["added", "modified", "deleted"]


class Snapshot(BaseModel):
    """One scan of /workspace: ``tree`` names its content in the store."""

    model_config = ConfigDict(frozen=True)

    tree: str
    files: int
    bytes: int
    # Bytes the store had to write (zero for an unchanged workspace).
    written: int
    seconds: float


class RestoreResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    written: int
    removed: int
    seconds: float


class FileChange(BaseModel):
    """A file or symlink that differs between two states of /workspace."""

    model_config = ConfigDict(frozen=True)

    path: str
    kind: ChangeKind
    old_size: int = 0
    new_size: int = 0
    old_mode: int | None = None
    new_mode: int | None = None
    binary: bool = False
    # A unified diff for text files (None for binary or very large ones).
    diff: str | None = None


class StoreUsage(BaseModel):
    model_config = ConfigDict(frozen=True)

    bytes: int
    objects: int


class WorkspaceMount(BaseModel):
    """What is mounted at /workspace: a named volume or a folder on the engine's host."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["volume", "bind"]
    source: str
