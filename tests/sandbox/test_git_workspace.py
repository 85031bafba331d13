"""The repository door: GitWorkspace copies a host repository into the conversation's
volume, and hands the agent's work back as a branch, with the host left as it was.

Real repositories made here, a real engine, an image with git (the `git_image` fixture).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import (
    BareRepositoryError,
    GitMissingError,
    GitWorkspace,
    HandBackRefusedError,
    NotAGitRepositoryError,
    StartCancelledError,
)
from tests.sandbox.conftest import docker_host
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


def test_hand_back_twice_fast_forwards_and_a_moved_branch_is_refused(repo, make_git_ws):
    ws = make_git_ws(repo)
    ws.start()
    run(ws, "cd /workspace && echo one > a.txt")
    branch = ws.hand_back()
    first = git(repo, "rev-parse", branch)
    assert ws.hand_back() == branch  # nothing new: the same commit again
    assert git(repo, "rev-parse", branch) == first

    run(ws, "cd /workspace && git add a.txt && git commit -q -m 'agent: a' && echo two > b.txt")
    ws.hand_back()
    second = git(repo, "rev-parse", branch)
    assert second != first
    git(repo, "merge-base", "--is-ancestor", first, second)  # a fast-forward
    assert git(repo, "show", f"{branch}:a.txt") == "one"
    assert git(repo, "show", f"{branch}:b.txt") == "two"

    # The user moves the branch to a commit of their own: not overwritten, said plainly.
    mine = git(repo, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "the user's own")
    git(repo, "branch", "-f", branch, mine)
    before = snapshot(repo)
    run(ws, "cd /workspace && echo three > c.txt")
    with pytest.raises(HandBackRefusedError, match="has moved"):
        ws.hand_back()
    assert snapshot(repo) == before
    assert git(repo, "rev-parse", branch) == mine


def test_hand_back_into_the_branch_the_user_has_checked_out_is_refused(repo, make_git_ws):
    ws = make_git_ws(repo)
    ws.start()
    branch = ws.hand_back()
    git(repo, "stash", "-u", "-q")
    git(repo, "switch", "-q", branch)
    run(ws, "cd /workspace && echo more > more.txt")
    with pytest.raises(HandBackRefusedError, match="checked out"):
        ws.hand_back()


def test_two_conversations_on_one_repository_get_two_branches(repo, make_git_ws):
    one, two = make_git_ws(repo), make_git_ws(repo)
    one.start()
    two.start()
    assert one.volume != two.volume
    run(one, "cd /workspace && echo one > who.txt")
    run(two, "cd /workspace && echo two > who.txt")
    assert {one.hand_back(), two.hand_back()} == {one.branch, two.branch}
    assert one.branch != two.branch
    assert git(repo, "show", f"{one.branch}:who.txt") == "one"
    assert git(repo, "show", f"{two.branch}:who.txt") == "two"


def test_hand_back_and_patch_while_frozen(repo, make_git_ws):
    ws = make_git_ws(repo, branch="feature/agent")
    ws.start()
    run(ws, "cd /workspace && echo frozen > frozen.txt")
    ws.freeze()
    assert "+frozen" in ws.patch()
    assert ws.hand_back() == "feature/agent"
    assert ws.frozen and ws.container.attrs is not None
    ws.container.reload()
    assert ws.container.status == "paused"
    assert git(repo, "show", "feature/agent:frozen.txt") == "frozen"


def test_reattaching_does_not_copy_again(repo, make_git_ws):
    ws = make_git_ws(repo)
    ws.start()
    run(ws, "cd /workspace && echo kept > kept.txt && git add kept.txt && git commit -qm kept")
    ws.close()
    (repo / "later.txt").write_text("the user's later edit\n")
    again = make_git_ws(repo, conversation_id=ws.conversation_id)
    again.start()
    assert run(again, "cd /workspace && git log -1 --format=%s && ls").split()[0] == "kept"
    assert "later.txt" not in run(again, "ls /workspace")


def test_detached_head_submodules_and_lfs_are_said(repo, make_git_ws):
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    (repo / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    ws = make_git_ws(repo)
    text = " ".join(ws.notices)
    assert "detached HEAD" in text and "LFS" in text
    ws.start()
    assert ws.branch.startswith("berth/")
    assert run(ws, "cd /workspace && git rev-parse --abbrev-ref HEAD").strip() == ws.branch


def test_bad_folders_are_said_plainly_and_nothing_is_written(tmp_path, make_git_ws):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotAGitRepositoryError, match="not a git repository"):
        make_git_ws(plain)
    with pytest.raises(NotAGitRepositoryError, match="not a folder"):
        make_git_ws(tmp_path / "missing")
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with pytest.raises(BareRepositoryError, match="bare repository"):
        make_git_ws(bare)
    assert sorted(p.name for p in plain.iterdir()) == []


def test_an_image_without_git_is_said(repo, make_git_ws, sandbox_image):
    before = snapshot(repo)
    ws = make_git_ws(repo, image=sandbox_image)
    with pytest.raises(GitMissingError, match="git is not installed in the image"):
        ws.start()
    assert snapshot(repo) == before


def test_remote_engine_needs_no_bind_mount(repo, make_git_ws, tcp_engine):
    with docker_host(tcp_engine):
        ws = make_git_ws(repo)
        ws.start()
        mounts = ws.container.attrs["Mounts"]
        assert [m["Type"] for m in mounts] == ["volume"]
        run(ws, "cd /workspace && echo remote > remote.txt")
        branch = ws.hand_back()
    assert git(repo, "show", f"{branch}:remote.txt") == "remote"


def test_a_big_copy_is_cancelled_and_the_next_start_copies_afresh(tmp_path, make_git_ws):
    repo = make_repo(tmp_path / "big")
    big = repo / "big"
    big.mkdir()
    for n in range(6):  # ~120 MB that neither git nor tar can compress
        (big / f"blob{n}.bin").write_bytes(os.urandom(20 * 1024 * 1024))
    git(repo, "add", "big")
    git(repo, "commit", "-q", "-m", "big files")
    before = snapshot(repo)

    ws = make_git_ws(repo)
    lines: list[str] = []
    first_line = threading.Event()

    def progress(line: str) -> None:
        lines.append(line)
        first_line.set()

    ws.on_progress = progress
    failed: list[BaseException] = []

    def start() -> None:
        try:
            ws.start()
        except BaseException as exc:
            failed.append(exc)

    starter = threading.Thread(target=start)
    starter.start()
    assert first_line.wait(120)
    ws.cancel_start()
    starter.join(120)
    assert not starter.is_alive()
    assert len(failed) == 1 and isinstance(failed[0], StartCancelledError), failed
    assert str(failed[0]) == "Copying the repository was cancelled: nothing was written to it."
    assert snapshot(repo) == before

    again = make_git_ws(repo, conversation_id=ws.conversation_id)
    again.start()
    assert snapshot(repo) == before
    assert run(again, "cd /workspace && git log -1 --format=%s").split()[0] == "Your"
    assert run(again, "cd /workspace && git status --porcelain").strip() == ""
    sums = run(again, "cd /workspace/big && sha256sum blob*.bin")
    for n in range(6):
        data = (big / f"blob{n}.bin").read_bytes()
        assert f"{hashlib.sha256(data).hexdigest()}  blob{n}.bin" in sums
