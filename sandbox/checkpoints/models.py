"""What the checkpoint store answers, as pydantic models (they cross the helper's socket)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    # Files kept out (over a size limit, or changing while read): how many, and why.
    skipped: int = 0
    notes: list[str] = Field(default_factory=list)


class StoreLimits(BaseModel):
    """What one checkpoint may cost. Holes of sparse files are free: only data counts."""

    model_config = ConfigDict(frozen=True)

    # Data bytes of one file; a larger file is kept out of the checkpoint (with a note).
    max_file_bytes: int = 1 << 30
    # Data bytes read from changed files in one checkpoint; what passes it is kept out.
    max_new_bytes: int = 4 << 30
    # A file larger than this on either side is compared by hash: "too large to diff".
    diff_bytes: int = 1_000_000


class Deadlines(BaseModel):
    """Seconds each helper call may take before the helper is killed and replaced."""

    model_config = ConfigDict(frozen=True)

    # Reading or writing up to the per-checkpoint limit at a slow disk's pace, and then some.
    snapshot: float = 60.0 + (4 << 30) / (32 << 20)
    restore: float = 60.0 + (4 << 30) / (32 << 20)
    other: float = 60.0

    def of(self, op: str) -> float:
        if op in ("snapshot", "changes"):
            return self.snapshot
        if op == "restore":
            return self.restore
        return self.other


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
    # Over the diff limit: told apart by hash, never loaded; the view says "too large to diff".
    too_large: bool = False
    # Why this row has no diff when something went wrong with it alone.
    note: str | None = None


class StoreUsage(BaseModel):
    model_config = ConfigDict(frozen=True)

    bytes: int
    objects: int


class WorkspaceMount(BaseModel):
    """What is mounted at /workspace: a named volume or a folder on the engine's host."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["volume", "bind"]
    source: str
