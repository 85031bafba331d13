"""The agent's status: what a conversation is doing right now."""

from __future__ import annotations

from enum import StrEnum


class AgentStatus(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING_FOR_CONFIRMATION = "waiting_for_confirmation"
    FINISHED = "finished"
    ERROR = "error"
    STUCK = "stuck"

    @property
    def is_terminal_for_run(self) -> bool:
        """True for the statuses at which ``Conversation.run()`` returns."""
        return self is not AgentStatus.RUNNING
