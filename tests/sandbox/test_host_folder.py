"""A host folder is worked on as its owner, and no set-id bit reaches the host through it.

The folder is owned by uid 1000 (tests run as root, as CI does). The checkpoint helper image
is used for the workspace: it has python3, for os.chmod and os.open from a program.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import DockerWorkspace
from tests.sandbox.conftest import docker_host
from tests.support.workspaces import workspace_factory

OWNER = (1000, 1000)
# Each tries to leave a set-id file or folder; `|| true`: a refusal is the expected end.
ATTEMPTS = {
    "rootsh": "cp /bin/bash rootsh && chmod 4755 rootsh",
    "installed": "install -m 4755 /bin/bash installed",
    "pychmod": "touch pychmod && python3 -c 'import os; os.chmod(\"pychmod\", 0o6755)'",
    "pyopen": "python3 -c 'import os; os.open(\"pyopen\", os.O_CREAT | os.O_WRONLY, 0o4755)'",
    "sgid-dir": "mkdir sgid-dir && chmod g+s sgid-dir",
    "pymkdir": "python3 -c 'import os; os.mkdir(\"pymkdir\", 0o2775)'",
}


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    os.chown(folder, *OWNER)
    return folder


@pytest.fixture
def folder_ws(
    engine: str | None, sandbox_image: str, user_folder: Path
) -> Iterator[DockerWorkspace]:
    """On the local engine, and reached by TCP (the owner then read through the engine)."""
    with workspace_factory(os.environ["BERTH_CHECKPOINT_IMAGE"]) as make:
        with docker_host(engine):
            workspace = make(host_dir=user_folder)
            workspace.start()
        yield workspace


def _owner_and_setid(path: Path) -> tuple[tuple[int, int], int]:
    info = path.lstat()
    return (info.st_uid, info.st_gid), stat.S_IMODE(info.st_mode) & 0o6000


def test_the_agent_runs_as_the_folders_owner(folder_ws: DockerWorkspace, user_folder: Path):
    result = folder_ws.execute("id -u; id -g; echo made > made.txt; mkdir dir; touch ~/.rc", 60)

    assert result.output.split()[:2] == ["1000", "1000"]
    assert result.exit_code == 0  # HOME is somewhere it can write
    for name in ("made.txt", "dir"):
        assert _owner_and_setid(user_folder / name) == (OWNER, 0)


def test_no_setid_bit_lands_in_the_folder(folder_ws: DockerWorkspace, user_folder: Path):
    for command in ATTEMPTS.values():
        folder_ws.execute(f"{command} || true", timeout=60)

    landed = {
        name: _owner_and_setid(user_folder / name)
        for name in ATTEMPTS
        if (user_folder / name).exists()
    }
    assert {name: bits for name, (_, bits) in landed.items() if bits} == {}
    assert {owner for owner, _ in landed.values()} == {OWNER}
    # Plain modes still work: the refusal is for the set-id bits alone.
    assert (
        folder_ws.execute(
            "chmod 755 made 2>/dev/null; touch x && chmod 750 x && stat -c %a x", 60
        ).output
        == "750\n"
    )


def test_files_written_through_the_archive_api_belong_to_the_owner(
    folder_ws: DockerWorkspace, user_folder: Path
):
    folder_ws.write_text("/workspace/new/deep/edited.txt", "edited\n")
    folder_ws.write_bytes("/workspace/tool", b"#!/bin/sh\n", mode=0o4755)
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        info = tarfile.TarInfo("unpacked/suid")
        info.size, info.mode, info.uid = 2, 0o6755, 0
        tar.addfile(info, io.BytesIO(b"x\n"))
    folder_ws.put_archive("/workspace/in", tar_bytes.getvalue())

    paths = ["new", "new/deep/edited.txt", "tool", "in", "in/unpacked", "in/unpacked/suid"]
    assert {p: _owner_and_setid(user_folder / p) for p in paths} == {p: (OWNER, 0) for p in paths}
    # The agent edits what the editor wrote, as the folder's owner.
    assert (
        folder_ws.execute("echo more >> new/deep/edited.txt && cat new/deep/edited.txt", 60).output
        == "edited\nmore\n"
    )
