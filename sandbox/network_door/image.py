"""The proxy's image: mitmproxy's wheels from PyPI laid over the checkpoint helper image,
which has python3 (sandbox/images/wheels.py).
The tag names the mitmproxy version and the base image, so it is built once per engine.

In the packaged app pip comes from a Python 3 on this machine: $BERTH_PROXY_PYTHON, else
``python3`` or ``python`` on PATH. Without one, the error says how to build the image
(``berth build-proxy-image``).
"""

from __future__ import annotations

import os

import docker
import docker.errors

from sandbox.checkpoints import helper_image
from sandbox.engine import connect
from sandbox.errors import ImageBuildError
from sandbox.images.berth_image import Progress, ensure_image
from sandbox.images.offline import image_exists
from sandbox.images.wheels import build_wheel_image, host_pip

IMAGE_ENV = "BERTH_PROXY_IMAGE"
PYTHON_ENV = "BERTH_PROXY_PYTHON"
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
    pip = pip_command(tag)
    report(f"Building the network proxy's image {tag} (first use only)...")
    build_wheel_image(client, tag, base, [MITMPROXY], SITE, source_only=SOURCE_ONLY, pip=pip)
    report(f"image {tag} ready")
    return tag


def pip_command(tag: str) -> list[str]:
    """How to run pip for the proxy's image; ImageBuildError saying what to do when this
    machine has none the app can use."""
    named = os.environ.get(PYTHON_ENV)
    pip = host_pip(named)
    if pip is not None:
        return pip
    where = (
        f"${PYTHON_ENV} ({named}) has no working pip"
        if named
        else "no python3 or python on PATH has a working pip"
    )
    raise ImageBuildError(
        f"The network proxy's image {tag} is not on the Docker engine yet, and building it "
        "takes pip to fetch mitmproxy from PyPI: this app has none of its own, and "
        f"{where}. Install Python 3 with pip (so that "
        f"`python3 -m pip --version` works), or set ${PYTHON_ENV} to such a Python, "
        "then run `berth build-proxy-image` in a terminal (or start the conversation "
        f"again). An image built elsewhere may be named with ${IMAGE_ENV}."
    )


def build(progress: Progress) -> str:
    """``berth build-proxy-image``: the image for this machine's engine, built if missing."""
    client = connect()
    base = helper_image()
    return ensure_proxy_image(client, proxy_image(client, base), base, progress)
