"""The repository door on a repository of 10,000 files with history, in one run:

- GitWorkspace start (container + copy of HEAD, its history and uncommitted changes) vs a
  plain ``git clone --local`` of the same repository (goal: at most 2x); the copy alone is
  the start minus a plain DockerWorkspace's start
- hand_back() of 3 commits the agent made (goal: < 2 s)

    make bench   (or: .venv/bin/python -m pytest -s -o python_files='bench_*.py' tests/bench)
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

from sandbox import DockerWorkspace, GitWorkspace
from tests.support.git_repos import git

FILES = 10_000
COMMITS = 10
GOAL_RATIO = 2.0
GOAL_HAND_BACK_S = 2.0


def _make_big_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q")
    for commit in range(COMMITS):
        for i in range(commit, FILES, COMMITS if commit else 1):
            folder = path / f"pkg{i % 50}" / f"sub{i % 7}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"mod{i}.py").write_text(
                f"# module {i}, revision {commit}\n" + "def f(x):\n    return x + 1\n" * 20
            )
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"revision {commit}")
    (path / "pkg0" / "sub0" / "mod0.py").write_text("# an uncommitted edit\n")
    (path / "untracked.py").write_text("print('new')\n")
    return path


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def test_bench_repository(git_image, tmp_path):
    repo = _make_big_repo(tmp_path / "big")
    clone_s = _timed(
        lambda: subprocess.run(
            ["git", "clone", "-q", "--local", str(repo), str(tmp_path / "clone")], check=True
        )
    )
    plain = DockerWorkspace(git_image, conversation_id=f"bench-{uuid.uuid4().hex[:8]}",
                            network=False)  # fmt: skip
    ws = GitWorkspace(git_image, repo=repo, network=False,
                      conversation_id=f"bench-{uuid.uuid4().hex[:8]}")  # fmt: skip
    try:
        plain_s = _timed(plain.start)
        start_s = _timed(ws.start)
        copy_s = start_s - plain_s
        for n in range(3):
            result = ws.execute(
                f"cd /workspace && echo change {n} >> pkg1/sub1/mod1.py && "
                f"git commit -qam 'agent change {n}'"
            )
            assert result.exit_code == 0, result.output
        hand_back_s = _timed(ws.hand_back)
        assert git(repo, "log", "--format=%s", "-1", ws.branch) == "agent change 2"
    finally:
        plain.remove(volume=True)
        ws.remove(volume=True)
    print(
        f"\nrepository of {FILES:,} files, {COMMITS} commits:"
        f"\n  git clone --local          {clone_s * 1000:8.0f} ms"
        f"\n  GitWorkspace.start()       {start_s * 1000:8.0f} ms  "
        f"(ratio {start_s / clone_s:.2f}; goal <= {GOAL_RATIO})"
        f"\n    of which the copy        {copy_s * 1000:8.0f} ms  (ratio {copy_s / clone_s:.2f})"
        f"\n    a plain container start  {plain_s * 1000:8.0f} ms"
        f"\n  hand_back() of 3 commits   {hand_back_s * 1000:8.0f} ms  "
        f"(goal < {GOAL_HAND_BACK_S * 1000:.0f} ms)"
    )
