"""Leftovers: this installation's containers and volumes whose conversation is gone.

A conversation deleted with "Also remove" unchecked, or a crash between removing its folder
and its container, leaves them on the engine where nobody sees them. Only what carries this
installation's id is listed (never another user's on the same engine).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Collection

import docker
import docker.errors
from pydantic import BaseModel

from sandbox import labels, removal
from sandbox.engine import connect, engine_errors

log = logging.getLogger(__name__)


class Leftover(BaseModel):
    """One gone conversation's leftovers on the engine."""

    conversation_id: str
    containers: list[str] = []  # names: its own and its checkpoint helper's
    volumes: list[str] = []


def _conversation_of(tags: dict[str, str]) -> str:
    return (
        tags.get(labels.CONVERSATION)
        or tags.get(labels.CHECKPOINTS_OF)
        or tags.get(labels.PROXY_OF)
        or ""
    )


def find_leftovers(
    existing: Collection[str], client: docker.DockerClient | None = None
) -> list[Leftover]:
    """This installation's conversations on the engine that are not in ``existing``."""
    client = connect(client)
    found: dict[str, Leftover] = {}

    def entry(conversation_id: str) -> Leftover:
        return found.setdefault(conversation_id, Leftover(conversation_id=conversation_id))

    # A running container is in use (an SDK conversation may keep its folder elsewhere):
    # never a leftover, nor is anything of its conversation.
    in_use: set[str] = set()
    with engine_errors():
        for container in client.containers.list(
            all=True, sparse=True, filters={"label": labels.ours_filter()}
        ):
            owner = _conversation_of(container.attrs.get("Labels") or {})  # sparse: no .labels
            if not owner or owner in existing:
                continue
            if container.attrs.get("State") in ("running", "paused", "restarting"):
                in_use.add(owner)
                continue
            name = str((container.attrs.get("Names") or [(container.id or "")[:12]])[0]).lstrip("/")
            entry(owner).containers.append(name)
        for volume in client.volumes.list(filters={"label": labels.ours_filter()}):
            owner = _conversation_of(volume.attrs.get("Labels") or {})
            if owner and owner not in existing:
                entry(owner).volumes.append(volume.name)
    kept = [item for item in found.values() if item.conversation_id not in in_use]
    return sorted(kept, key=lambda item: item.conversation_id)


def remove_leftovers(items: Collection[Leftover], client: docker.DockerClient | None = None) -> int:
    """Remove what ``items`` name (still this installation's); how many things went. One
    that the engine refuses (a volume still in use) stays, and is listed again next time;
    it never keeps the others from going."""
    client = connect(client)
    removed = 0
    mine = labels.ours()

    def ours(found: dict[str, str]) -> bool:
        return all(found.get(k) == v for k, v in mine.items())

    with engine_errors():
        for item in items:
            for name in item.containers:
                with contextlib.suppress(docker.errors.NotFound):
                    container = client.containers.get(name)
                    if ours(container.labels):
                        container.remove(force=True)  # force: a frozen one is killed first
                        removed += 1
            for name in item.volumes:
                try:
                    volume = client.volumes.get(name)
                    if ours(volume.attrs.get("Labels") or {}):
                        removal.remove_volume(client, name)
                        removed += 1
                except docker.errors.NotFound:
                    continue
                except docker.errors.APIError as exc:
                    log.warning("leftover volume %s stays: %s", name, exc)
    return removed
