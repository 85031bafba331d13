"""The labels that mark containers and volumes as Berth's, and the names derived from them."""

from __future__ import annotations

MANAGED = "berth.managed"
CONVERSATION = "berth.conversation"
WORKDIR = "/workspace"
# On a conversation's checkpoint helper (sandbox.checkpoints), which mounts its /workspace.
# Not CONVERSATION: the agent's container is found by that label and must be the only one.
CHECKPOINTS_OF = "berth.checkpoints.of"


def labels_for(conversation_id: str) -> dict[str, str]:
    return {MANAGED: "true", CONVERSATION: conversation_id}


def volume_name(conversation_id: str) -> str:
    return f"berth-ws-{conversation_id}"


def container_name(conversation_id: str) -> str:
    return f"berth-{conversation_id}"
