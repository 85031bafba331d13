"""The proxy's image: mitmproxy's wheels from PyPI laid over an image that has python3.

No registry image is needed: the wheels for the base image's Python are fetched with pip
on this machine and installed into a folder (``pip install --target``, no pip inside the
image), which a two-line Dockerfile copies onto the base (the checkpoint helper image).
The tag names the mitmproxy version and the base image, so it is built once per engine.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import docker
import docker.errors

from sandbox import labels
from sandbox.errors import ImageBuildError
from sandbox.images.berth_image import Progress, ensure_image
from sandbox.images.offline import image_exists

IMAGE_ENV = "BERTH_PROXY_IMAGE"
REPOSITORY = "berth-proxy"
MITMPROXY = "mitmproxy==11.0.2"  # the last release for Python 3.11 (Debian bookworm's)
# mitmproxy's dependencies that PyPI has as source only: built into wheels here first.
SOURCE_ONLY = ("pyperclip==1.9.0",)
SITE = "/opt/berth-proxy"
_PLATFORMS = ("manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
              "manylinux2014_x86_64", "linux_x86_64")  # fmt: skip


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
    version = _python_version(client, base)
    with tempfile.TemporaryDirectory(prefix="berth-proxy-") as tmp:
        wheels, site = Path(tmp) / "wheels", Path(tmp) / "site"
        _pip("wheel", "--no-deps", "-w", str(wheels), *SOURCE_ONLY)
        platform = [arg for name in _PLATFORMS for arg in ("--platform", name)]
        target = ["--python-version", version, "--only-binary=:all:", *platform,
                  "--implementation", "cp"]  # fmt: skip
        _pip("download", "-d", str(wheels), "--find-links", str(wheels), *target, MITMPROXY)
        _pip("install", "--no-index", "--find-links", str(wheels), "--target", str(site),
             *target, MITMPROXY)  # fmt: skip
        context = Path(tmp) / "context.tar"
        _context(context, base, site)
        with context.open("rb") as handle:
            try:
                client.images.build(
                    fileobj=handle, custom_context=True, tag=tag, rm=True, labels=labels.ours()
                )
            except (docker.errors.BuildError, docker.errors.APIError) as exc:
                raise ImageBuildError(f"Building the proxy image {tag} failed: {exc}") from exc
    report(f"image {tag} ready")
    return tag


def _python_version(client: docker.DockerClient, base: str) -> str:
    script = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        out = client.containers.run(
            base, ["python3", "-c", script], network_mode="none", remove=True,
            labels=labels.ours(),
        )  # fmt: skip
    except docker.errors.ContainerError as exc:
        raise ImageBuildError(f"The image {base} has no python3 for the proxy") from exc
    return bytes(out).decode().strip()


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check",
               "-q", *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise ImageBuildError(f"pip {args[0]} for the proxy image failed:\n{tail}")


def _context(path: Path, base: str, site: Path) -> None:
    dockerfile = f"FROM {base}\nCOPY site {SITE}\nENV PYTHONPATH={SITE}\n".encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add(str(site), arcname="site")
