"""The proxy's image in the packaged app: frozen by PyInstaller, Berth has no pip of its own,
so it builds the image with a Python found on this machine, or says plainly how to.

``sys.frozen`` is what PyInstaller sets; ``sys.executable`` is then the app itself, which
these tests point at a path with no Python behind it.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from pathlib import Path

import docker
import pytest

from gui.cli import main
from sandbox.errors import ImageBuildError
from sandbox.network_door.image import IMAGE_ENV, PYTHON_ENV, ensure_proxy_image
from tests.conftest import CHECKPOINT_IMAGE

THIS_PYTHON = sys.executable  # the tests' own, with pip: as a Python on the user's PATH


@pytest.fixture
def frozen_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """As in the packaged app: frozen, sys.executable no Python; PATH an empty folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "Berth" / "berth"))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv(PYTHON_ENV, raising=False)
    return bin_dir


def _tag() -> str:
    return f"berth-test-proxy-frozen:{uuid.uuid4().hex[:8]}"


def test_without_a_python_the_cli_says_how_to_build_it(
    frozen_app: Path, sandbox_image: str, docker_client: docker.DockerClient, monkeypatch, capsys
) -> None:
    tag = _tag()
    monkeypatch.setenv(IMAGE_ENV, tag)
    assert main(["build-proxy-image"]) == 1
    said = capsys.readouterr().err
    assert tag in said and "python3 -m pip --version" in said
    assert "berth build-proxy-image" in said and PYTHON_ENV in said
    assert not docker_client.images.list(name=tag.split(":")[0])

    monkeypatch.setenv(PYTHON_ENV, str(frozen_app / "python-without-pip"))
    with pytest.raises(ImageBuildError, match="python-without-pip"):
        ensure_proxy_image(docker_client, tag, CHECKPOINT_IMAGE)


def test_the_packaged_app_builds_it_with_the_python_on_path(
    frozen_app: Path,
    sandbox_image: str,
    docker_client: docker.DockerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PyInstaller's loader puts the bundle's libraries there, for the app alone.
    monkeypatch.setenv("LD_LIBRARY_PATH", str(tmp_path / "Berth" / "_internal"))
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    used = tmp_path / "python-was-used"
    python3 = frozen_app / "python3"  # this machine's Python with pip, found on PATH
    python3.write_text(f'#!/bin/sh\necho "[$LD_LIBRARY_PATH]" > {used}\nexec {THIS_PYTHON} "$@"\n')
    python3.chmod(0o755)
    tag = _tag()
    try:
        assert ensure_proxy_image(docker_client, tag, CHECKPOINT_IMAGE) == tag
        version = docker_client.containers.run(
            tag,
            ["python3", "-c", "import mitmproxy.version as v; print(v.VERSION)"],
            network_mode="none",
            remove=True,
        )
        assert bytes(version).decode().strip() == "11.0.2"
        assert used.read_text() == "[]\n"  # found on PATH, run without the bundle's libraries
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, force=True)
