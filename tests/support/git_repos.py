"""Real git repositories on the host for the repository door's tests, and what tells two
states of one apart (every file's bytes and mode, .git included, plus git's own view)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "user@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "user@example.com",
}


def git(repo: Path, *args: str, check: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env={**env, **IDENTITY},
        capture_output=True,
        check=check,
    )
    return done.stdout.decode().strip()


def make_repo(path: Path) -> Path:
    """History (3 commits), then an uncommitted edit, an untracked file and an ignored
    one; a symlink and an executable among the committed files."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    (path / ".gitignore").write_text("*.log\n__pycache__/\n")
    (path / "app.py").write_text("def main():\n    return 1\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "first")
    (path / "run.sh").write_text("#!/bin/bash\necho run\n")
    (path / "run.sh").chmod(0o755)
    (path / "link.py").symlink_to("app.py")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "second")
    (path / "docs").mkdir()
    (path / "docs" / "notes.txt").write_text("notes\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "third")
    (path / "app.py").write_text("def main():\n    return 2  # edited, not committed\n")
    (path / "untracked.txt").write_text("new, not added\n")
    (path / "debug.log").write_text("ignored\n")
    (path / "__pycache__").mkdir()
    (path / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"\x00ignored")
    return path


def snapshot(repo: Path) -> dict[str, str]:
    """Every path under ``repo`` (.git too) with its type, mode and content hash, plus
    HEAD, the status and the index's mtime, read without taking git's optional locks."""
    seen: dict[str, str] = {}
    for root, dirs, files in os.walk(repo):
        for name in sorted(dirs + files):
            full = Path(root) / name
            info = full.lstat()
            rel = str(full.relative_to(repo))
            if full.is_symlink():
                seen[rel] = f"link {os.readlink(full)}"
            elif full.is_dir():
                seen[rel] = f"dir {info.st_mode:o}"
            else:
                digest = hashlib.sha256(full.read_bytes()).hexdigest()
                seen[rel] = f"file {info.st_mode:o} {digest} {info.st_mtime_ns}"
    seen[":HEAD"] = git(repo, "rev-parse", "HEAD")
    seen[":branch"] = git(repo, "symbolic-ref", "-q", "HEAD", check=False)
    seen[":status"] = git(repo, "--no-optional-locks", "status", "--porcelain")
    return seen


def worktree_and_state(snap: dict[str, str]) -> dict[str, str]:
    """A snapshot without .git's insides, but with the index: what a hand-back may not
    change (it adds a branch, so refs and objects change)."""
    return {k: v for k, v in snap.items() if not k.startswith(".git/") or k == ".git/index"}
