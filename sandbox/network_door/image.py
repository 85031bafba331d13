"""The proxy's image: mitmproxy's wheels from PyPI laid over the checkpoint helper image,
which has python3 (sandbox/images/wheels.py).
The tag names the mitmproxy version and the base image, so it is built once per engine.
"""

from __future__ import annotations

import os

import docker
import docker.errors

from sandbox.images.berth_image import Progress, ensure_image
from sandbox.images.offline import image_exists
from sandbox.images.wheels import build_wheel_image

IMAGE_ENV = "BERTH_PROXY_IMAGE"
REPOSITORY = "berth-proxy"
MITMPROXY = "mitmproxy==11.0.2"  # the last release for Python 3.11 (Debian bookworm's)
# mitmproxy's dependencies that PyPI has as source only: built into wheels here first.
SOURCE_ONLY = ("pyperclip==1.9.0",)
SITE = "/opt/berth-proxy"


def proxy_image(client: docker.DockerClient, base: str) -> str:
    """$BERTH_PROXY_IMAGE, else the tag for mitmproxy on ``base``."""
    named = os.environ.get(IMAGE_ENV)
    if named:
        return named
    try:
        base_id = str(client.images.get(base).id).split(":")[-1][:12]
    except docker.errors.ImageNotFound:
        base_id = "unbuilt"
    return f"{REPOSITORY}:{MITMPROXY.split('==')[1]}-{base_id}"


def ensure_proxy_image(
    client: docker.DockerClient, tag: str, base: str, progress: Progress | None = None
) -> str:
    """``tag`` on the engine, built on ``base`` if missing."""
    if image_exists(client, tag):
        return tag
    report = progress or (lambda _line: None)
    ensure_image(client, base, progress)
    report(f"Building the network proxy's image {tag} (first use only)...")
    build_wheel_image(client, tag, base, [MITMPROXY], SITE, source_only=SOURCE_ONLY)
    report(f"image {tag} ready")
    return tag
