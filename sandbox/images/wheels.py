"""An image made of PyPI wheels laid over a local image that has python3.

No registry image is needed: the wheels for the base image's Python are fetched with pip
on this machine and installed into a folder (``pip install --target``, no pip inside the
image), which a short Dockerfile copies onto the base. The network proxy's image is built
this way (sandbox/network_door/image.py), and the tests' images of MCP servers.

pip is this interpreter's, or in the packaged app (frozen by PyInstaller: no pip in it) a
Python 3 with pip found on this machine (``host_pip``), run without the bundle's libraries.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

import docker
import docker.errors

from sandbox import labels
from sandbox.errors import ImageBuildError

_PLATFORMS = ("manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
              "manylinux2014_x86_64", "linux_x86_64")  # fmt: skip


def build_wheel_image(
    client: docker.DockerClient,
    tag: str,
    base: str,
    requirements: Sequence[str],
    site: str,
    *,
    source_only: Sequence[str] = (),
    pip: Sequence[str] | None = None,
) -> None:
    """Build ``tag`` on ``base`` with ``requirements`` installed at ``site`` (on its
    PYTHONPATH: run them as ``python3 -m``, since pip's scripts name this machine's
    Python). ``source_only``: requirements PyPI has as source only, built into wheels here
    first. ``pip``: the command that runs pip (default: this interpreter's)."""
    pip = list(pip or [sys.executable, "-m", "pip"])
    version = _python_version(client, base)
    with tempfile.TemporaryDirectory(prefix="berth-wheels-") as tmp:
        wheels, folder = Path(tmp) / "wheels", Path(tmp) / "site"
        if source_only:
            _pip(pip, "wheel", "--no-deps", "-w", str(wheels), *source_only)
        platform = [arg for name in _PLATFORMS for arg in ("--platform", name)]
        target = ["--python-version", version, "--only-binary=:all:", *platform,
                  "--implementation", "cp"]  # fmt: skip
        _pip(pip, "download", "-d", str(wheels), "--find-links", str(wheels), *target,
             *requirements)  # fmt: skip
        _pip(pip, "install", "--no-index", "--find-links", str(wheels), "--target", str(folder),
             *target, *requirements)  # fmt: skip
        lines = [f"FROM {base}", f"COPY site {site}", f"ENV PYTHONPATH={site}"]
        context = Path(tmp) / "context.tar"
        _context(context, "\n".join(lines) + "\n", folder)
        with context.open("rb") as handle:
            try:
                client.images.build(
                    fileobj=handle, custom_context=True, tag=tag, rm=True, labels=labels.ours()
                )
            except (docker.errors.BuildError, docker.errors.APIError) as exc:
                raise ImageBuildError(f"Building the image {tag} failed: {exc}") from exc


def _python_version(client: docker.DockerClient, base: str) -> str:
    script = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        out = client.containers.run(
            base, ["python3", "-c", script], network_mode="none", remove=True,
            labels=labels.ours(),
        )  # fmt: skip
    except docker.errors.ContainerError as exc:
        raise ImageBuildError(f"The image {base} has no python3") from exc
    return bytes(out).decode().strip()


def host_pip(named: str | None = None) -> list[str] | None:
    """How to run pip here: this interpreter's; in the packaged app, ``named`` (a Python's
    path) or ``python3``/``python`` on PATH whose pip works. None when there is none."""
    if not getattr(sys, "frozen", False):
        return [sys.executable, "-m", "pip"]
    candidates = [named] if named else [found for name in ("python3", "python")
                                        if (found := shutil.which(name))]  # fmt: skip
    for python in candidates:
        if _has_pip(python):
            return [python, "-m", "pip"]
    return None


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


def _pip(pip: list[str], *args: str) -> None:
    command = [*pip, "--disable-pip-version-check", "-q", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, errors="replace", env=_host_environment()
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise ImageBuildError(f"pip {args[0]} failed:\n{tail}")


def _context(path: Path, dockerfile: str, site: Path) -> None:
    data = dockerfile.encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        tar.add(str(site), arcname="site")
