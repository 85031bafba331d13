"""The repository door at the conversation's level: hand-back and patch go to the
GitWorkspace; the notices its start made (submodules, LFS, a detached HEAD) become
NoticeEvents once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.events import NoticeEvent

if TYPE_CHECKING:
    from agent.conversation.engine import Engine
    from sandbox import DockerWorkspace, GitWorkspace


def git_workspace(workspace: DockerWorkspace) -> GitWorkspace:
    from sandbox import GitWorkspace, GitWorkspaceError

    if not isinstance(workspace, GitWorkspace):
        raise GitWorkspaceError(
            "This conversation does not work on a copy of a git repository, so there is no "
            "branch to hand back or patch to make. Start one with "
            "workspace=GitWorkspace(repo=...) (the CLI: --repo DIR)."
        )
    return workspace


def record_notices(engine: Engine, workspace: DockerWorkspace) -> None:
    for notice in getattr(workspace, "notices", []):
        engine.record(NoticeEvent(title="Repository", text=notice, source="repository"))
