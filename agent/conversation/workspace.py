"""The container a conversation works in: made from what the caller passed (a
DockerWorkspace, a host folder, nothing) or, on reopen, from what state.json saved, and
described back as a ``WorkspaceSpec`` so the next reopen finds it again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.conversation.network import SecretLookup, fill_secrets
from agent.conversation.state import SecretSpec, WorkspaceSpec

if TYPE_CHECKING:
    from sandbox import DockerWorkspace


def make_workspace(
    workspace: DockerWorkspace | str | os.PathLike[str] | None,
    spec: WorkspaceSpec,
    conversation_id: str,
    secret_value: SecretLookup | None = None,
) -> DockerWorkspace:
    """The workspace to start (not started yet). Reopened, its saved secrets get their
    values from ``secret_value`` by name."""
    if workspace is not None and not isinstance(workspace, (str, os.PathLike)):
        # A DockerWorkspace (or anything that behaves as one).
        if getattr(workspace, "conversation_id", None) is None:
            workspace.conversation_id = conversation_id
        return workspace
    from sandbox import DockerWorkspace, GitWorkspace

    # A reopened conversation keeps its saved network, limits and pause mode.
    kwargs: dict[str, Any] = {"conversation_id": conversation_id, **spec.options()}
    secrets = fill_secrets(spec, secret_value)
    if secrets:
        kwargs["secrets"] = secrets
    if workspace is not None:
        kwargs["host_dir"] = str(Path(workspace).expanduser().resolve())
    elif spec.host_dir:
        kwargs["host_dir"] = spec.host_dir
    elif spec.volume:
        kwargs["volume"] = spec.volume
    if workspace is None and spec.repo:
        return GitWorkspace(spec.image, repo=spec.repo, branch=spec.branch, **kwargs)
    return DockerWorkspace(spec.image, **kwargs)


def spec_of(workspace: DockerWorkspace) -> WorkspaceSpec:
    """What state.json keeps of a workspace (started or not)."""

    def attr(name: str) -> Any:
        try:
            return getattr(workspace, name, None)
        except Exception:  # a property that needs start()
            return None

    host_dir = attr("host_dir")
    network = attr("network")
    allow = getattr(network, "allow", None)  # a NetworkPolicy's list
    return WorkspaceSpec(
        image=attr("image"),
        host_dir=str(host_dir) if host_dir is not None else None,
        volume=attr("volume") if not host_dir else None,
        network=bool(network) if network is not None else True,
        allow=list(allow) if allow is not None else None,
        secrets=[SecretSpec(name=s.name, hosts=list(s.hosts)) for s in attr("secrets") or []],
        memory=attr("memory"),
        cpus=attr("cpus"),
        pids_limit=attr("pids_limit"),
        pause_mode=str(attr("pause_mode")) if attr("pause_mode") is not None else None,
        repo=str(attr("repo")) if attr("repo") is not None else None,
        branch=attr("branch") if attr("repo") is not None else None,
    )
