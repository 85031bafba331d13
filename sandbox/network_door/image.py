"""The proxy's image: mitmproxy's wheels from PyPI laid over an image that has python3.

No registry image is needed: the wheels for the base image's Python are fetched with pip
on this machine and installed into a folder (``pip install --target``, no pip inside the
image), which a two-line Dockerfile copies onto the base (the checkpoint helper image).
The tag names the mitmproxy version and the base image, so it is built once per engine.

pip is this interpreter's, or in the packaged app (frozen by PyInstaller: no pip in it) a
Python 3 with pip on this machine: $BERTH_PROXY_PYTHON, else ``python3`` or ``python`` on
PATH. Without one, the error says how to build the image (``berth build-proxy-image``).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import docker
import docker.errors

from sandbox import labels
from sandbox.checkpoints import helper_image
from sandbox.engine import connect
from sandbox.errors import ImageBuildError
from sandbox.images.berth_image import Progress, ensure_image
from sandbox.images.offline import image_exists

IMAGE_ENV = "BERTH_PROXY_IMAGE"
PYTHON_ENV = "BERTH_PROXY_PYTHON"
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
    pip = pip_command(tag)
    report(f"Building the network proxy's image {tag} (first use only)...")
    version = _python_version(client, base)
    with tempfile.TemporaryDirectory(prefix="berth-proxy-") as tmp:
        wheels, site = Path(tmp) / "wheels", Path(tmp) / "site"
        _pip(pip, "wheel", "--no-deps", "-w", str(wheels), *SOURCE_ONLY)
        platform = [arg for name in _PLATFORMS for arg in ("--platform", name)]
        target = ["--python-version", version, "--only-binary=:all:", *platform,
                  "--implementation", "cp"]  # fmt: skip
        _pip(pip, "download", "-d", str(wheels), "--find-links", str(wheels), *target, MITMPROXY)
        _pip(pip, "install", "--no-index", "--find-links", str(wheels), "--target", str(site),
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


def pip_command(tag: str) -> list[str]:
    """How to run pip here: this interpreter's, or in the packaged app a Python found on
    this machine. ImageBuildError saying what to do when there is none."""
    if not getattr(sys, "frozen", False):
        return [sys.executable, "-m", "pip"]
    named = os.environ.get(PYTHON_ENV)
    candidates = [named] if named else [found for name in ("python3", "python")
                                        if (found := shutil.which(name))]  # fmt: skip
    for python in candidates:
        if _has_pip(python):
            return [python, "-m", "pip"]
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


def _host_environment() -> dict[str, str]:
    """This process's environment, less what PyInstaller's loader set for the app alone:
    the bundle's libraries on LD_LIBRARY_PATH would shadow the host Python's (its ssl)."""
    env = dict(os.environ)
    if getattr(sys, "frozen", False):
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original is None:
            env.pop("LD_LIBRARY_PATH", None)
        else:
            env["LD_LIBRARY_PATH"] = original
    return env


def _has_pip(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-m", "pip", "--version"],
            capture_output=True,
            timeout=60,
            check=False,
            env=_host_environment(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def build(progress: Progress) -> str:
    """``berth build-proxy-image``: the image for this machine's engine, built if missing."""
    client = connect()
    base = helper_image()
    return ensure_proxy_image(client, proxy_image(client, base), base, progress)


def _pip(pip: list[str], *args: str) -> None:
    command = [*pip, "--disable-pip-version-check", "-q", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, errors="replace", env=_host_environment()
    )
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
