"""Berth's sandbox: Docker containers, the persistent shell, file transfer, images.

Only the Docker SDK here: nothing of LLMs or Qt.
"""

from sandbox.errors import (
    ContainerGoneError,
    EngineUnreachableError,
    FileTooLargeError,
    FreezeFailedError,
    ImageBuildError,
    ImageMissingError,
    NoSuchPathError,
    PathOutsideError,
    SandboxError,
    ShellBusyError,
    ShellDiedError,
)
from sandbox.models import CommandResult, FileEntry
from sandbox.orphans import reap_orphans
from sandbox.pause_modes import Hold, PauseMode, PauseOutcome
from sandbox.workspace import DockerWorkspace

__all__ = [
    "CommandResult",
    "ContainerGoneError",
    "DockerWorkspace",
    "EngineUnreachableError",
    "FileEntry",
    "FileTooLargeError",
    "FreezeFailedError",
    "Hold",
    "ImageBuildError",
    "ImageMissingError",
    "NoSuchPathError",
    "PathOutsideError",
    "PauseMode",
    "PauseOutcome",
    "SandboxError",
    "ShellBusyError",
    "ShellDiedError",
    "reap_orphans",
]
