"""Rules of a conversation's life that a front end shows but must not restate: Qt-free.

The window asks these instead of deciding per status itself, so the words it shows and
what the session does (agent/session.py, agent/session_commands.py) cannot drift apart:

- ``send_outcome``: what happens to a message the user sends now;
- ``is_at_work``: whether a conversation's agent is at work (the quit prompt, Pause all);
- ``status_implied_by``: the status an event already says (a Pause event means PAUSED),
  so a status event that only repeats it adds nothing to show.
"""

from __future__ import annotations

from enum import StrEnum

from agent.session.commands import STARTS_A_RUN, Phase
from agent.status import AgentStatus

__all__ = ["SendOutcome", "is_at_work", "send_outcome", "status_implied_by"]


class SendOutcome(StrEnum):
    """What ``Session.send()`` does with a message, as the user should be told."""

    HELD_UNTIL_STARTED = "held_until_started"  # recorded once the container is up
    NEXT_STEP = "next_step"  # a run is on: the model sees it at its next step
    WAITS_FOR_RESUME = "waits_for_resume"  # paused: recorded now, seen once resumed
    WAITS_FOR_APPROVAL = "waits_for_approval"  # actions await approval; Resume approves
    STARTS_A_RUN = "starts_a_run"  # idle or finished: a run begins on it
    TRIES_AGAIN = "tries_again"  # failed or stuck: a run begins, the message its hint


def send_outcome(status: AgentStatus, *, starting: bool) -> SendOutcome:
    """What a message sent now does, given the session's status and whether its container
    is still starting (Session.send: held while starting, else recorded at once)."""
    if starting:
        return SendOutcome.HELD_UNTIL_STARTED
    if status is AgentStatus.RUNNING:
        return SendOutcome.NEXT_STEP
    if status is AgentStatus.PAUSED:
        return SendOutcome.WAITS_FOR_RESUME
    if status is AgentStatus.WAITING_FOR_CONFIRMATION:
        return SendOutcome.WAITS_FOR_APPROVAL
    if status in (AgentStatus.ERROR, AgentStatus.STUCK):
        return SendOutcome.TRIES_AGAIN
    if status in STARTS_A_RUN:
        return SendOutcome.STARTS_A_RUN
    raise ValueError(f"no send rule for status {status!r}")


def is_at_work(phase: Phase, status: AgentStatus) -> bool:
    """True while a run is in progress: the session's loop is in ``run()``, or the engine
    says RUNNING (a run asked for whose loop has not taken it yet). A closed conversation
    never is. Quitting asks first about these; Pause all pauses these."""
    if phase is Phase.CLOSED:
        return False
    return phase is Phase.RUNNING or status is AgentStatus.RUNNING


# An event of these kinds says the status itself: the status event that follows it (or
# came just before) repeats what the event's marker already shows.
_IMPLIED_BY_KIND: dict[str, AgentStatus] = {
    "pause": AgentStatus.PAUSED,
    "interrupt": AgentStatus.PAUSED,
    "resume": AgentStatus.RUNNING,
}


def status_implied_by(event_kind: str) -> AgentStatus | None:
    """The status an event of ``event_kind`` (agent.events ``kind``) implies, if any."""
    return _IMPLIED_BY_KIND.get(event_kind)
