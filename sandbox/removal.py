"""Removing a conversation's container and volume by label, without starting anything."""

from __future__ import annotations

import contextlib

import docker
import docker.errors

from sandbox import labels, network
from sandbox.engine import connect, engine_errors

VOLUME_ATTEMPTS = 5


def remove_conversation_resources(
    conversation_id: str, client: docker.DockerClient | None = None
) -> int:
    """Remove every container labelled with ``conversation_id`` (running or frozen ones
    too), its checkpoint helpers, its named volume and its checkpoint store; returns how
    many containers went.

    Raises EngineUnreachableError when the engine is away, so the caller can try later.
    A host folder mounted at /workspace is never touched: only the named volume goes.
    """
    client = connect(client)
    removed = 0
    with engine_errors():
        found = client.containers.list(
            ignore_removed=True,
            all=True,
            filters={"label": f"{labels.CONVERSATION}={conversation_id}"},
        )
        found += client.containers.list(
            ignore_removed=True,
            all=True,
            filters={"label": f"{labels.CHECKPOINTS_OF}={conversation_id}"},
        )
        for container in found:
            if container.labels.get(labels.MANAGED) != "true":
                continue
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)  # force: a frozen one is killed, then removed
                removed += 1
        network.remove_network(client, conversation_id)
        remove_volume(client, labels.volume_name(conversation_id))
        # Its checkpoint store (sandbox.checkpoints), labelled as the conversation's.
        tagged = client.volumes.list(filters={"label": f"{labels.CONVERSATION}={conversation_id}"})
        for volume in tagged:
            if (volume.attrs.get("Labels") or {}).get(labels.MANAGED) == "true":
                with contextlib.suppress(docker.errors.NotFound):
                    volume.remove(force=True)
    return removed


def remove_volume(client: docker.DockerClient, name: str) -> None:
    """Remove a named volume and Berth's containers on it. A checkpoint helper made again
    meanwhile (a checkpoint still under way as its conversation goes) holds the volume:
    its users go again, a few times, before the engine's refusal is the answer."""
    for attempt in range(VOLUME_ATTEMPTS):
        remove_volume_users(client, name)
        try:
            client.volumes.get(name).remove(force=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as exc:
            if exc.status_code != 409 or attempt == VOLUME_ATTEMPTS - 1:
                raise


def remove_volume_users(client: docker.DockerClient, volume: str) -> None:
    """Berth's other containers on this volume (checkpoint helpers) go first: a volume in
    use cannot be removed."""
    users = client.containers.list(
        ignore_removed=True,
        all=True,
        filters={"volume": volume, "label": f"{labels.MANAGED}=true"},
    )
    for user in users:
        with contextlib.suppress(docker.errors.NotFound):
            user.remove(force=True)
