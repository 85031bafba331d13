"""Berth's sandbox: Docker containers, the persistent shell, file transfer, images.

Only the Docker SDK here: nothing of LLMs or Qt.
"""

from sandbox.attached_process import AttachedProcess
from sandbox.errors import (
    BareRepositoryError,
    ContainerGoneError,
    EngineUnreachableError,
    FileTooLargeError,
    FreezeFailedError,
    GitMissingError,
    GitWorkspaceError,
    HandBackRefusedError,
    ImageBuildError,
    ImageMissingError,
    NoSuchPathError,
    NotAGitRepositoryError,
    PathOutsideError,
    SandboxError,
    ShellBusyError,
    ShellDiedError,
    StartCancelledError,
)
from sandbox.git_workspace import GitWorkspace
from sandbox.models import CommandResult, FileEntry
from sandbox.network_door import NetworkPolicy, NetworkRequest, Secret
from sandbox.orphans import reap_orphans
from sandbox.pause_modes import Hold, PauseMode, PauseOutcome
from sandbox.workspace import DockerWorkspace

__all__ = [
    "AttachedProcess",
    "BareRepositoryError",
    "CommandResult",
    "ContainerGoneError",
    "DockerWorkspace",
    "EngineUnreachableError",
    "FileEntry",
    "FileTooLargeError",
    "FreezeFailedError",
    "GitMissingError",
    "GitWorkspace",
    "GitWorkspaceError",
    "HandBackRefusedError",
    "Hold",
    "ImageBuildError",
    "ImageMissingError",
    "NetworkPolicy",
    "NetworkRequest",
    "NoSuchPathError",
    "NotAGitRepositoryError",
    "PathOutsideError",
    "PauseMode",
    "PauseOutcome",
    "SandboxError",
    "Secret",
    "ShellBusyError",
    "ShellDiedError",
    "StartCancelledError",
    "reap_orphans",
]
