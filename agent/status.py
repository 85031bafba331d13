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
    def at_rest(self) -> AgentStatus:
        """The status of a saved conversation that no app holds open: a run cannot go on
        without the app, so one left RUNNING (a quit or a crash mid-run) is PAUSED, as
        reopening it records."""
        return AgentStatus.PAUSED if self is AgentStatus.RUNNING else self

    @property
    def is_terminal_for_run(self) -> bool:
        """True for the statuses at which ``Conversation.run()`` returns."""
        return self is not AgentStatus.RUNNING
