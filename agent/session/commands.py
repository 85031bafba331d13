"""What a user may ask of a conversation, and when: the one table of a session's rules.

``allowed_commands(phase, status)`` answers, for a session's phase (has its conversation
been started? is a run in progress?) and the conversation's status, which commands make
sense. The session refuses the others; the window enables its toolbar actions and its
composer from the same answer, so the two never disagree.

Adding a command: add it to ``Command``, say in ``allowed_commands``
when it is allowed, and give ``Session`` a method that queues it and a ``_do_NAME``
handler (see session.py).
"""

from __future__ import annotations

from enum import StrEnum

from agent.status import AgentStatus


class Command(StrEnum):
    START = "start"  # create or reopen the conversation and its container
    SEND = "send"  # record a user message (held while the container starts)
    RESUME = "resume"  # run again from PAUSED, ERROR, STUCK
    PAUSE = "pause"
    STOP = "stop"
    APPROVE = "approve"  # run the tool calls waiting for confirmation
    REJECT = "reject"
    REWIND = "rewind"  # argument: a checkpoint id; /workspace and history go back there
    FORK = "fork"  # argument: a checkpoint id; a new saved conversation from there
    CLOSE = "close"  # stop the container, keep everything on disk
    DELETE = "delete"  # close, then remove the folder, the container and the volume


class Phase(StrEnum):
    """Where a session stands, apart from the conversation's own status."""

    NOT_STARTED = "not_started"  # no Conversation yet (or its start failed)
    STARTING = "starting"  # the container is being started or reattached
    OPEN = "open"  # the Conversation exists; no run in progress
    RUNNING = "running"  # run() is in progress on the session's thread
    CLOSED = "closed"  # closed or deleted: nothing more


# Statuses from which recording a message starts a run by itself; from the others the
# message waits (PAUSED: for Resume; WAITING_FOR_CONFIRMATION: for an answer).
STARTS_A_RUN = frozenset(
    {AgentStatus.IDLE, AgentStatus.FINISHED, AgentStatus.ERROR, AgentStatus.STUCK}
)
# STUCK is not resumable: the same step would repeat; a new message gets it going.
_RESUMABLE = frozenset({AgentStatus.PAUSED, AgentStatus.ERROR})
_STOPPABLE = frozenset(
    {AgentStatus.RUNNING, AgentStatus.PAUSED, AgentStatus.WAITING_FOR_CONFIRMATION}
)
_ALWAYS = frozenset({Command.SEND, Command.CLOSE, Command.DELETE})
# Once open, at any status: a run is paused first (Session.rewind()/fork()).
_TIME_TRAVEL = frozenset({Command.REWIND, Command.FORK})


def allowed_commands(phase: Phase, status: AgentStatus) -> frozenset[Command]:
    """The commands a session takes in this phase and status."""
    if phase is Phase.CLOSED:
        return frozenset()
    if phase is Phase.NOT_STARTED:
        return _ALWAYS | {Command.START}
    if phase is Phase.STARTING:
        return _ALWAYS
    allowed = set(_ALWAYS)
    # A status of RUNNING may reach a watcher before it hears that the run began.
    if phase is Phase.RUNNING or status is AgentStatus.RUNNING:
        # A run pausing for confirmation reports it before run() returns: the answer is
        # kept and given as soon as it has.
        if status is AgentStatus.WAITING_FOR_CONFIRMATION:
            allowed |= {Command.APPROVE, Command.REJECT, Command.STOP}
        elif status is AgentStatus.PAUSED:
            # Paused, and run() is returning: Resume is taken as soon as it has, so the
            # button works the moment the window says "Paused".
            allowed |= {Command.RESUME, Command.STOP}
        else:
            allowed |= {Command.PAUSE, Command.STOP}
        return frozenset(allowed | _TIME_TRAVEL)
    if status in _RESUMABLE:
        allowed.add(Command.RESUME)
    if status in _STOPPABLE:
        allowed.add(Command.STOP)
    if status is AgentStatus.WAITING_FOR_CONFIRMATION:
        allowed |= {Command.APPROVE, Command.REJECT}
    return frozenset(allowed | _TIME_TRAVEL)
