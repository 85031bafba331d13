"""Checkpoints of /workspace: a content-addressed store kept by a helper container."""

from sandbox.checkpoints.models import (
    FileChange,
    RestoreResult,
    Snapshot,
    StoreUsage,
    WorkspaceMount,
)
from sandbox.checkpoints.store import (
    IMAGE_ENV,
    STORE_VOLUME,
    VOLUME_ENV,
    CheckpointError,
    CheckpointStore,
    default_store_volume,
    helper_image,
    store_only,
    workspace_mount,
)

__all__ = [
    "IMAGE_ENV",
    "STORE_VOLUME",
    "VOLUME_ENV",
    "CheckpointError",
    "CheckpointStore",
    "FileChange",
    "RestoreResult",
    "Snapshot",
    "StoreUsage",
    "WorkspaceMount",
    "default_store_volume",
    "helper_image",
    "store_only",
    "workspace_mount",
]
