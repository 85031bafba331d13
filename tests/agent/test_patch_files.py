"""A patch against the starting commit, listed per file as the Changes view lists changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from agent.conversation.patch_files import split_patch


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def test_a_real_git_diff_splits_into_one_change_per_file(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "a.txt").write_text("one\n")
    (repo / "d.txt").write_text("gone\n")
    (repo / "bin").write_bytes(b"\x00\x01")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "start")
    (repo / "a.txt").write_text("one\ntwo\n")
    (repo / "a.txt").chmod(0o755)
    (repo / "d.txt").unlink()
    (repo / "sp ace.txt").write_text("new\n")
    (repo / "bin").write_bytes(b"\x00\x02")
    _git(repo, "add", "-A")
    patch = _git(repo, "diff", "--cached", "--binary", "HEAD")

    changes = {c.path: c for c in split_patch(patch)}
    assert sorted(changes) == [
        "/workspace/a.txt",
        "/workspace/bin",
        "/workspace/d.txt",
        "/workspace/sp ace.txt",
    ]
    a = changes["/workspace/a.txt"]
    assert (a.kind, a.old_mode, a.new_mode) == ("modified", 0o100644, 0o100755)
    assert a.diff is not None and "+two" in a.diff and a.diff.startswith("--- a/a.txt")
    assert changes["/workspace/d.txt"].kind == "deleted"
    assert changes["/workspace/sp ace.txt"].kind == "added"
    assert changes["/workspace/bin"].binary and changes["/workspace/bin"].diff is None
    assert split_patch("") == []
