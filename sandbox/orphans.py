"""Reaping: Berth's containers that exited and were never removed."""

from __future__ import annotations

import contextlib

import docker
import docker.errors

from sandbox import labels, network
from sandbox.engine import connect, engine_errors

_DEAD_STATES = ("exited", "created", "dead")


def reap_orphans(client: docker.DockerClient | None = None) -> int:
    """Remove exited containers of this installation; returns how many went.

    Volumes stay: they hold conversations' files, and reopening a conversation makes a new
    container on the same volume.
    """
    client = connect(client)
    removed = 0
    with engine_errors():
        for status in _DEAD_STATES:
            for container in client.containers.list(
                ignore_removed=True,
                all=True,
                # Only this installation's: another user's Berth on the engine keeps its own.
                filters={"label": labels.ours_filter(), "status": status},
            ):
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    container.remove()
                    removed += 1
        network.reap_networks(client)  # each conversation's own, once its container went
    return removed
