"""The repository door at the conversation's level: a conversation on a GitWorkspace
hands its work back as a branch, makes a patch, keeps its repository on reopen, and a fork
hands back as a branch of its own. A real engine, a real model server, real repositories."""

from __future__ import annotations

import pytest

from agent import AgentStatus, Conversation
from agent.events import NoticeEvent
from sandbox import DockerWorkspace, GitWorkspace, GitWorkspaceError
from tests.agent.helpers import make_agent
from tests.agent.test_checkpoints import bash, by_task
from tests.support.git_repos import git, make_repo, snapshot, worktree_and_state


def test_hand_back_patch_reopen_and_fork(llm_server, tmp_path, git_image, open_conversations):
    repo = make_repo(tmp_path / "project")
    git(repo, "checkout", "-q", "--detach")  # said once, as a notice
    before = snapshot(repo)
    llm_server.script = by_task(
        {
            "fix": [
                bash(
                    "cd /workspace && echo fixed > fix.txt && git add fix.txt && git commit -qm fix"
                ),
                bash("cd /workspace && echo half > half.txt"),
            ],
            "other": [bash("cd /workspace && echo other > other.txt")],
        }
    )
    data = tmp_path / "conversations"
    workspace = GitWorkspace(git_image, repo=repo, network=False)
    conversation = Conversation(make_agent(llm_server), workspace=workspace, persistence_dir=data)
    open_conversations.append(conversation)
    notices = [e for e in conversation.state.events if isinstance(e, NoticeEvent)]
    assert [n.source for n in notices] == ["repository"] and "detached" in notices[0].text
    conversation.send_message("fix it")
    assert conversation.run() == AgentStatus.FINISHED
    assert snapshot(repo) == before

    conversation.pause()
    branch = conversation.hand_back()
    assert branch == f"berth/{conversation.id[:8]}"
    assert worktree_and_state(snapshot(repo)) == worktree_and_state(before)
    assert git(repo, "log", "--format=%s", "-3", branch).splitlines() == [
        "Work in progress from Berth", "fix", "Your uncommitted changes",
    ]  # fmt: skip
    assert "+half" in conversation.patch() and "+fixed" in conversation.patch()

    # Reopened: the same repository and branch, no second copy.
    checkpoint = conversation.checkpoints[1]
    conversation.close()
    reopened = Conversation(
        make_agent(llm_server), conversation_id=conversation.id, persistence_dir=data
    )
    open_conversations[0] = reopened
    assert isinstance(reopened.workspace, GitWorkspace)
    assert reopened.workspace.repo == repo and reopened.workspace.branch == branch
    assert reopened.hand_back() == branch

    # A fork hands back as its own branch, with only its own work.
    fork = reopened.fork(checkpoint.id)
    open_conversations.append(fork)
    fork.send_message("the other way")
    assert fork.run() == AgentStatus.FINISHED
    fork_branch = fork.hand_back()
    assert fork_branch == f"berth/{fork.id[:8]}" != branch
    files = git(repo, "ls-tree", "--name-only", fork_branch).split()
    assert "other.txt" in files and "fix.txt" in files and "half.txt" not in files
    assert fork.workspace.execute("git -C /workspace branch --show-current").output.strip() == (
        fork_branch
    )


def test_a_conversation_without_a_repository_says_so(
    llm_server, tmp_path, sandbox_image, open_conversations
):
    conversation = Conversation(
        make_agent(llm_server),
        workspace=DockerWorkspace(sandbox_image, network=False),
        persistence_dir=tmp_path / "conversations",
    )
    open_conversations.append(conversation)
    with pytest.raises(GitWorkspaceError, match="not work on a copy of a git repository"):
        conversation.hand_back()
    with pytest.raises(GitWorkspaceError, match="not work on a copy"):
        conversation.patch()
