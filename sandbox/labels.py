"""The labels that mark containers and volumes as Berth's, and the names derived from them."""

from __future__ import annotations

MANAGED = "berth.managed"
CONVERSATION = "berth.conversation"
WORKDIR = "/workspace"
# On a conversation's checkpoint helper (sandbox.checkpoints), which mounts its /workspace.
# Not CONVERSATION: the agent's container is found by that label and must be the only one.
CHECKPOINTS_OF = "berth.checkpoints.of"
# On a conversation's network proxy (sandbox/network_door), for the same reason.
PROXY_OF = "berth.proxy.of"


# This installation's id (sandbox.installation) on every container, volume and network
# Berth creates: what the reaper and the leftovers list go by.
INSTALLATION = "berth.installation"


def ours() -> dict[str, str]:
    """The labels that say "Berth's, and this installation's"."""
    from sandbox.installation import installation_id

    return {MANAGED: "true", INSTALLATION: installation_id()}


def ours_filter() -> list[str]:
    """``ours()`` as an engine label filter (every label must match)."""
    return [f"{key}={value}" for key, value in ours().items()]


def labels_for(conversation_id: str) -> dict[str, str]:
    return {**ours(), CONVERSATION: conversation_id}


def volume_name(conversation_id: str) -> str:
    return f"berth-ws-{conversation_id}"


def container_name(conversation_id: str) -> str:
    return f"berth-{conversation_id}"
