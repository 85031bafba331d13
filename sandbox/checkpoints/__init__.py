"""Checkpoints of /workspace: a content-addressed store kept by a helper container."""

from sandbox.checkpoints.models import (
    Deadlines,
    FileChange,
    RestoreResult,
    Snapshot,
    StoreLimits,
    StoreUsage,
    WorkspaceMount,
)
from sandbox.checkpoints.store import (
    IMAGE_ENV,
    STORE_VOLUME,
    VOLUME_ENV,
    CheckpointError,
    CheckpointStore,
    copy_checkpoints,
    default_store_volume,
    helper_image,
    store_only,
    store_volume_for,
    store_volumes,
    workspace_mount,
)

__all__ = [
    "IMAGE_ENV",
    "STORE_VOLUME",
    "VOLUME_ENV",
    "CheckpointError",
    "CheckpointStore",
    "Deadlines",
    "FileChange",
    "RestoreResult",
    "Snapshot",
    "StoreLimits",
    "StoreUsage",
    "WorkspaceMount",
    "copy_checkpoints",
    "default_store_volume",
    "helper_image",
    "store_only",
    "store_volume_for",
    "store_volumes",
    "workspace_mount",
]
