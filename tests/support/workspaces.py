"""Workspaces for tests: one started for a scope, or a factory of workspaces of their own.

Both remove what they made (container and volume) afterwards, so a test may break them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sandbox import DockerWorkspace


def new_conversation_id(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextlib.contextmanager
def started_workspace(image: str, prefix: str = "test") -> Iterator[DockerWorkspace]:
    workspace = DockerWorkspace(image, conversation_id=new_conversation_id(prefix))
    workspace.start()
    yield workspace
    with contextlib.suppress(Exception):
        workspace.thaw()
    workspace.remove(volume=True)


@contextlib.contextmanager
def workspace_factory(image: str, prefix: str = "test") -> Iterator[Callable[..., DockerWorkspace]]:
    """make(**options) -> a new (unstarted) DockerWorkspace; all removed on exit."""
    workspaces: list[DockerWorkspace] = []

    def make(**options: Any) -> DockerWorkspace:
        options.setdefault("conversation_id", new_conversation_id(prefix))
        workspace = DockerWorkspace(image, **options)
        workspaces.append(workspace)
        return workspace

    yield make
    for workspace in workspaces:
        with contextlib.suppress(Exception):
            workspace.remove(volume=True)


def closed_port_docker_host() -> str:
    """A DOCKER_HOST value where no engine listens: Docker "away", for real."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"
