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

    def __init__(self, image: str) -> None:
        self.image = image
        super().__init__(f"The image {image!r} is not available on the Docker engine.")


class ImageBuildError(SandboxError):
    """Building an image failed."""


class ContainerGoneError(SandboxError):
    """The container was removed or stopped under us."""
