"""Berth's own sandbox image: built from the Dockerfile beside this module on first use.

The tag carries a hash of the Dockerfile, so editing it yields a new image instead of a stale
one. When no registry is reachable the build cannot fetch its base image; the error then
says how to make an image from Debian's packages under the very tag Berth looks for.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from sandbox.errors import ImageBuildError, ImageMissingError
from sandbox.images.offline import image_exists

IMAGES_DIR = Path(__file__).resolve().parent
DOCKERFILE = IMAGES_DIR / "Dockerfile"
REPOSITORY = "berth-sandbox"
ENV_VAR = "BERTH_SANDBOX_IMAGE"

Progress = Callable[[str], None]


def default_tag() -> str:
    digest = hashlib.sha256(DOCKERFILE.read_bytes()).hexdigest()[:12]
    return f"{REPOSITORY}:{digest}"


def resolve_image(image: str | None) -> str:
    """The argument, else $BERTH_SANDBOX_IMAGE, else Berth's own tag."""
    return image or os.environ.get(ENV_VAR) or default_tag()


def offline_command(tag: str, include: str = "") -> str:
    """The command that builds ``tag`` from Debian's packages, with no registry."""
    # For Berth's own tag, the stand-in gets what the Dockerfile would have installed.
    if tag == default_tag():
        include = "python3,python3-pip,git,curl,ca-certificates"
    extra = f" --include {include}" if include else ""
    return f"python -m sandbox.images build-offline {tag}{extra}"


def offline_hint(tag: str) -> str:
    return (
        "If this machine reaches no registry, build a stand-in from Debian's packages "
        f"under that tag:  {offline_command(tag)}"
    )


def ensure_image(client: docker.DockerClient, tag: str, progress: Progress | None = None) -> None:
    """Make sure ``tag`` is on the engine: build Berth's own image, or pull another one."""
    report = progress or (lambda _line: None)
    if image_exists(client, tag):
        return
    if tag == default_tag():
        build_default_image(client, tag, report)
    else:
        _pull(client, tag, report)


def build_default_image(client: docker.DockerClient, tag: str, report: Progress) -> None:
    report(f"Building Berth's sandbox image {tag} (first use only)...")
    tail: list[str] = []
    try:
        for chunk in client.api.build(
            path=str(IMAGES_DIR), dockerfile="Dockerfile", tag=tag, rm=True, decode=True
        ):
            if "error" in chunk:
                detail = str(chunk.get("error", "")).strip()
                raise ImageBuildError(
                    f"Building the sandbox image {tag} failed: {detail}\n{offline_hint(tag)}"
                )
            line = str(chunk.get("stream") or chunk.get("status") or "").rstrip()
            if chunk.get("progress"):
                line = f"{line} {chunk['progress']}"
            if line:
                tail = [*tail[-9:], line]
                report(line)
    except docker.errors.APIError as exc:
        raise ImageBuildError(
            f"Building the sandbox image {tag} failed: {exc.explanation or exc}\n"
            f"{offline_hint(tag)}"
        ) from exc
    if not image_exists(client, tag):
        raise ImageBuildError(
            f"Building the sandbox image {tag} ended without an image:\n"
            + "\n".join(tail)
            + f"\n{offline_hint(tag)}"
        )
    report(f"Image {tag} ready.")


def _pull(client: docker.DockerClient, tag: str, report: Progress) -> None:
    repository, _, version = tag.rpartition(":") if ":" in tag.split("/")[-1] else (tag, "", "")
    report(f"Pulling {tag}...")
    try:
        for chunk in client.api.pull(repository, tag=version or "latest", stream=True, decode=True):
            if "error" in chunk:
                raise ImageMissingError(
                    tag, f"Pulling it failed: {chunk['error']}. {offline_hint(tag)}"
                )
            line = str(chunk.get("status") or "")
            if chunk.get("progress"):
                line = f"{line} {chunk['progress']}"
            if line:
                report(line)
    except docker.errors.APIError as exc:
        raise ImageMissingError(
            tag, f"Pulling it failed: {exc.explanation or exc}. {offline_hint(tag)}"
        ) from exc
    if not image_exists(client, tag):
        raise ImageMissingError(tag, offline_hint(tag))
