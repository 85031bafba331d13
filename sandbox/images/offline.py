"""Build a sandbox image from Debian's packages alone, for machines that reach no registry.

debootstrap makes a minimal Debian root file system on this host; its tar stream is then
imported into the engine (which may be remote: only the tar crosses the wire).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import docker
import docker.errors

from sandbox.errors import ImageBuildError

DEFAULT_SUITE = "bookworm"
DEFAULT_MIRROR = os.environ.get("BERTH_DEBIAN_MIRROR", "http://deb.debian.org/debian")

Progress = Callable[[str], None]


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def build_offline_image(
    tag: str,
    *,
    client: docker.DockerClient | None = None,
    suite: str = DEFAULT_SUITE,
    include: Sequence[str] = (),
    mirror: str = DEFAULT_MIRROR,
    progress: Progress | None = None,
    force: bool = False,
) -> str:
    """Build ``tag`` with debootstrap + import unless it exists already. Returns the tag."""
    report = progress or (lambda _line: None)
    client = client or docker.from_env()
    if not force and image_exists(client, tag):
        report(f"image {tag} already present")
        return tag
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="berth-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        cmd = ["debootstrap", "--variant=minbase"]
        if include:
            cmd.append("--include=" + ",".join(include))
        cmd += [suite, str(root), mirror]
        report("running " + " ".join(cmd))
        _run_streaming(cmd, report)
        tarball = Path(tmp) / "rootfs.tar"
        report(f"packing {root}")
        subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
        report(f"importing into the engine as {tag}")
        repository, _, version = tag.rpartition(":") if ":" in tag else (tag, "", "latest")
        client.api.import_image(
            src=str(tarball),
            repository=repository,
            tag=version,
            changes=['CMD ["bash"]', "ENV LANG=C.UTF-8"],
        )
    report(f"image {tag} ready")
    return tag


def _run_streaming(cmd: list[str], report: Progress) -> None:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    )
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        line = line.rstrip()
        report(line)
        tail = [*tail[-19:], line]
    if proc.wait() != 0:
        raise ImageBuildError(
            f"{cmd[0]} failed with exit code {proc.returncode}:\n" + "\n".join(tail)
        )
