"""A hostile container tries to reach the user's files through a download, with links.

The attacks of issue #9: a link to a dotfile downloaded into a folder holding the user's own
dotfile, a folder link to ~/.ssh, links inside a folder, a dangling link. After each, every
file the user had on the host is byte for byte what it was, and the download wrote only the
path it returned.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sandbox import DockerWorkspace, NoSuchPathError, PathOutsideError, SandboxError


def _snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` (links not followed) with its content or link target."""
    seen: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                seen[key] = "-> " + os.readlink(path)
            elif path.is_file():
                seen[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[key] = "dir"
    return seen


def _user_folder(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE KEY\n")
    (home / ".bashrc").write_text("# the user's own bashrc\n")
    (home / "report.txt").write_text("the user's report\n")
    return home


def _sh(ws: DockerWorkspace, script: str) -> None:
    result = ws.execute(script, timeout=30)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("link", "user_has_report"),
    [("/workspace/a/.bashrc", True), (".bashrc", True), ("/workspace/a/.bashrc", False)],
    ids=["absolute-name-taken", "relative-name-taken", "absolute-name-free"],
)
def test_a_link_to_a_dotfile_never_replaces_or_moves_the_users_one(
    ws: DockerWorkspace, tmp_path: Path, link: str, user_has_report: bool
) -> None:
    home = _user_folder(tmp_path)
    if not user_has_report:
        (home / "report.txt").unlink()
    before = _snapshot(home)
    _sh(
        ws,
        "rm -rf /workspace/a && mkdir -p /workspace/a && cd /workspace/a && "
        f"echo 'echo PWNED' > .bashrc && ln -s {link} report.txt && cd /",
    )

    saved = ws.download("/workspace/a/report.txt", home)

    # What the link points to, under the link's name; a name the user has already gets a
    # numbered copy. The user's .bashrc and report.txt are untouched, nothing else written.
    assert saved == home / ("report (1).txt" if user_has_report else "report.txt")
    assert saved.read_text() == "echo PWNED\n" and not saved.is_symlink()
    assert {k: v for k, v in _snapshot(home).items() if k != saved.name} == before
    assert (home / ".bashrc").read_text() == "# the user's own bashrc\n"


@pytest.mark.parametrize("exists", [True, False], ids=["docs-exists", "docs-free"])
def test_a_folder_link_to_ssh_never_touches_the_users_ssh(
    ws: DockerWorkspace, tmp_path: Path, exists: bool
) -> None:
    home = _user_folder(tmp_path)
    if exists:
        (home / "docs").mkdir()
        (home / "docs" / "mine.md").write_text("mine\n")
    before = _snapshot(home)
    _sh(
        ws,
        "rm -rf /workspace/c /root/.ssh && mkdir -p /workspace/c /root/.ssh && "
        "echo attacker-key > /root/.ssh/authorized_keys && "
        "ln -s /root/.ssh /workspace/c/docs",
    )

    saved = ws.download("/workspace/c/docs", home)

    # What the link points to in the container, under the link's name (or a copy of it).
    assert saved == home / ("docs (1)" if exists else "docs")
    assert (saved / "authorized_keys").read_text() == "attacker-key\n"
    assert {k: v for k, v in _snapshot(home).items() if not k.startswith(saved.name)} == before
    assert (home / ".ssh" / "id_ed25519").read_text() == "PRIVATE KEY\n"


def test_links_inside_a_folder_pointing_out_refuse_it_and_leave_nothing(
    ws: DockerWorkspace, tmp_path: Path
) -> None:
    home = _user_folder(tmp_path)
    before = _snapshot(home)
    _sh(
        ws,
        "rm -rf /workspace/d && mkdir -p /workspace/d/trap && echo ok > /workspace/d/trap/ok && "
        "ln -s /home/user/.ssh /workspace/d/trap/ssh && ln -s ../../.. /workspace/d/trap/up",
    )

    with pytest.raises(PathOutsideError) as caught:
        ws.download("/workspace/d/trap", home)

    assert "Refused the download of /workspace/d/trap" in str(caught.value)
    assert "Nothing was written" in str(caught.value)
    assert _snapshot(home) == before  # not even a half-extracted folder or a staging folder


def test_links_staying_inside_a_folder_come_back_as_links(
    ws: DockerWorkspace, tmp_path: Path
) -> None:
    _sh(
        ws,
        "rm -rf /workspace/e && mkdir -p /workspace/e/proj/sub && cd /workspace/e/proj && "
        "echo data > sub/file && ln -s sub/file near && cd /",
    )

    saved = ws.download("/workspace/e/proj", tmp_path)

    assert saved == tmp_path / "proj"
    assert os.readlink(saved / "near") == "sub/file"
    assert (saved / "near").read_text() == "data\n"


def test_a_dangling_link_is_a_clear_error(ws: DockerWorkspace, tmp_path: Path) -> None:
    _sh(ws, "rm -rf /workspace/f && mkdir -p /workspace/f && ln -s /nowhere/at/all /workspace/f/x")

    with pytest.raises(NoSuchPathError, match="is a link to /nowhere/at/all, which does not"):
        ws.download("/workspace/f/x", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_pipe_is_refused_with_a_sentence(ws: DockerWorkspace, tmp_path: Path) -> None:
    _sh(ws, "rm -rf /workspace/g && mkdir -p /workspace/g && mkfifo /workspace/g/pipe")

    with pytest.raises(Exception, match="neither a file nor a folder"):
        ws.download("/workspace/g/pipe", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_downloading_twice_keeps_both(ws: DockerWorkspace, tmp_path: Path) -> None:
    ws.write_bytes("/workspace/h/notes", b"one")
    first = ws.download("/workspace/h/notes", tmp_path)
    ws.write_bytes("/workspace/h/notes", b"two")
    second = ws.download("/workspace/h/notes", tmp_path)
    assert (first.name, first.read_bytes()) == ("notes", b"one")
    assert (second.name, second.read_bytes()) == ("notes (1)", b"two")


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/workspace/" + "a" * 5000, "Linux allows at most 4,096"),
        ("/workspace/" + "b" * 300 + "/x", "at most 255 bytes for one file"),
    ],
    ids=["5000-char-path", "300-char-name"],
)
def test_an_overlong_path_is_a_clear_error(ws: DockerWorkspace, path: str, says: str) -> None:
    for action in (ws.read_bytes, ws.stat, lambda p: ws.write_bytes(p, b"x")):
        with pytest.raises(SandboxError, match=says):
            action(path)
