"""The repository door: GitWorkspace copies a host repository into the conversation's
volume, and hands the agent's work back as a branch, with the host left as it was.

Real repositories made here, a real engine, an image with git (the `git_image` fixture).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import (
    GitWorkspace,
)
from tests.support.git_repos import git, make_repo, snapshot, worktree_and_state
from tests.support.workspaces import new_conversation_id

AGENT_WORK = (
    "cd /workspace && printf 'def main():\\n    return 3\\n' > app.py && git add -A && "
    "git commit -q -m 'agent: return 3' && printf 'more\\n' >> docs/notes.txt && "
    "echo fresh > agent_new.txt && rm run.sh"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


@pytest.fixture
def make_git_ws(git_image: str) -> Iterator[Callable[..., GitWorkspace]]:
    made: list[GitWorkspace] = []

    def make(repo: Path, **options: Any) -> GitWorkspace:
        options.setdefault("conversation_id", new_conversation_id("git"))
        options.setdefault("network", False)
        workspace = GitWorkspace(options.pop("image", git_image), repo=repo, **options)
        made.append(workspace)
        return workspace

    yield make
    for workspace in made:
        with contextlib.suppress(Exception):
            workspace.thaw()
        with contextlib.suppress(Exception):
            workspace.remove(volume=True)


def run(ws: GitWorkspace, command: str) -> str:
    result = ws.execute(command, timeout=60)
    assert result.exit_code == 0, result.output
    return result.output


def test_copy_work_and_hand_back_leave_the_host_as_it_was(repo, make_git_ws):
    before = snapshot(repo)
    host_head = git(repo, "rev-parse", "HEAD")
    ws = make_git_ws(repo)
    ws.start()
    assert snapshot(repo) == before

    # The copy: history, the user's uncommitted work as one commit, on the conversation's branch.
    assert run(ws, "cd /workspace && git rev-parse --abbrev-ref HEAD").strip() == ws.branch
    assert ws.branch == f"berth/{ws.conversation_id[:8]}"
    log = run(ws, "cd /workspace && git log --format=%s").split()
    assert log[0] == "Your" and "third" in log and "first" in log
    assert run(ws, "cd /workspace && git rev-parse HEAD~1").strip() == host_head
    assert run(ws, "cd /workspace && git status --porcelain").strip() == ""
    assert run(ws, "cd /workspace && cat app.py untracked.txt && readlink link.py").split() == [
        "def", "main():", "return", "2", "#", "edited,", "not", "committed",
        "new,", "not", "added", "app.py",
    ]  # fmt: skip
    assert run(ws, "cd /workspace && stat -c %a run.sh").strip() == "755"
    assert run(ws, "cd /workspace && ls debug.log __pycache__ 2>&1 || true").count("No such") == 2

    run(ws, AGENT_WORK)
    assert snapshot(repo) == before  # nothing reaches the host while the agent works

    branch = ws.hand_back()
    assert branch == ws.branch
    after = snapshot(repo)
    assert worktree_and_state(after) == worktree_and_state(before)
    # The branch: the user's changes, the agent's commit, its uncommitted work; no more.
    subjects = git(repo, "log", "--format=%s", f"{host_head}..{branch}").splitlines()
    assert subjects == [
        "Work in progress from Berth",
        "agent: return 3",
        "Your uncommitted changes",
    ]
    assert git(repo, "show", f"{branch}:agent_new.txt") == "fresh"
    assert git(repo, "show", f"{branch}:docs/notes.txt") == "notes\nmore"
    assert "run.sh" not in git(repo, "ls-tree", "--name-only", branch).split()
    assert git(repo, "ls-tree", f"{branch}~2", "run.sh").startswith("100755")
    assert git(repo, "ls-tree", f"{branch}~2", "link.py").startswith("120000")
    # The agent's own branch in the container carries no work-in-progress commit.
    assert "Work in progress" not in run(ws, "cd /workspace && git log --format=%s")
    assert "agent_new.txt" in run(ws, "cd /workspace && git status --porcelain")


def test_patch_is_the_whole_change_since_the_start(repo, make_git_ws, tmp_path):
    ws = make_git_ws(repo)
    ws.start()
    run(ws, AGENT_WORK)
    diff = ws.patch()
    assert "+++ b/agent_new.txt" in diff and "deleted file mode 100755" in diff
    assert "return 3" in diff and "untracked.txt" not in diff
    # It applies to the user's tree as it was when the conversation started.
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(repo), str(copy)], check=True)
    subprocess.run(["git", "apply", "--check", "-"], cwd=copy, input=diff.encode(), check=True)
