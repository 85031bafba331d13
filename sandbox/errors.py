"""Typed errors a GUI can show as they are: each says what went wrong and what to do."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of every error the sandbox raises on purpose."""


class EngineUnreachableError(SandboxError):
    """The Docker engine does not answer."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The Docker engine is not reachable"
            + (f" ({detail})" if detail else "")
            + ". Start it (for example `sudo systemctl start docker`, or open Docker Desktop),"
            " or point DOCKER_HOST at a running engine."
        )


class ImageMissingError(SandboxError):
    """The image is not on the engine and cannot be pulled."""

    def __init__(self, image: str, hint: str = "") -> None:
        self.image = image
        super().__init__(
            f"The image {image!r} is not available on the Docker engine."
            + (f" {hint}" if hint else "")
        )


class ImageBuildError(SandboxError):
    """Building an image failed."""


class ContainerGoneError(SandboxError):
    """The container was removed or stopped under us."""


class FreezeFailedError(SandboxError):
    """The engine could not freeze the container (it reports why); the processes run on."""


class ShellDiedError(SandboxError):
    """The workspace's shell ended (``exit``, a crash, a kill); the next command gets a new one."""


class ShellBusyError(SandboxError):
    """A new command was sent while the previous one is still running in the shell."""

    def __init__(self) -> None:
        super().__init__(
            "A command is still running in the shell. Wait for it (execute('', is_input=True)),"
            " send it input (is_input=True), or interrupt it (interrupt() or the key C-c)."
        )


class PathOutsideError(SandboxError):
    """A tar entry would land outside its target folder (absolute path, '..', a link out)."""


class NoSuchPathError(SandboxError, FileNotFoundError):
    """Nothing at that path (in the container, or on the host for an upload)."""


class FileTooLargeError(SandboxError):
    """A read was refused: the file (a link's target, not the link) is past the reader's limit.

    Said before any of its content is read, so the size never costs the host memory."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        self.path, self.size, self.limit = path, size, limit
        super().__init__(
            f"{path} is {size:,} bytes; this read takes at most {limit:,} bytes, so none of "
            "it was read."
        )


class GitWorkspaceError(SandboxError):
    """A repository door (GitWorkspace) problem: said plainly, nothing written to the host."""


class NotAGitRepositoryError(GitWorkspaceError):
    """The folder given as ``repo`` is not a git repository (or does not exist)."""


class BareRepositoryError(GitWorkspaceError):
    """The folder is a bare repository: there is no working tree to copy."""


class GitMissingError(GitWorkspaceError):
    """git is not installed where it is needed (the image, or this computer)."""


class StartCancelledError(GitWorkspaceError):
    """The copy of the repository was cancelled (cancel_start()); the host is untouched."""


class HandBackRefusedError(GitWorkspaceError):
    """The host repository refused the handed-back branch (moved by the user, checked out)."""
