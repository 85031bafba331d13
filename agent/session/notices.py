"""What a session tells whoever watches it: typed, frozen notices, past tense.

A session reports everything through one callable taking a ``Notice``; it may be called
from the session's thread or from the engine's, so a watcher that owns a GUI queues them
to its own thread (gui/sessions/session_bridge.py turns each kind into a queued Qt signal).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agent.conversation.state import ConversationStats
from agent.events import ActionEvent, Event
from agent.llm.stream import StreamDelta
from agent.status import AgentStatus


class _Notice(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


class StartFailure(StrEnum):
    """Why a conversation could not start, in terms of what the user can do about it."""

    ENGINE_UNREACHABLE = "engine_unreachable"  # start Docker, then retry
    IMAGE_MISSING = "image_missing"  # build or choose the image, then retry
    CANCELLED = "cancelled"  # the user stopped it (a big repository's copy): send again
    OTHER = "other"  # read the message


class Starting(_Notice):
    kind: Literal["starting"] = "starting"
    text: str  # "Starting the container…", image build progress, ...


class Opened(_Notice):
    """The conversation exists and its container is up; ``reopened``: a saved one, whose
    events and stats so far come along (taken on the session's thread: a front end reading
    them from the conversation would wait on its lock)."""

    kind: Literal["opened"] = "opened"
    conversation: Any  # agent.Conversation (kept loose: pydantic cannot model it)
    reopened: bool
    events: tuple[Event, ...] = ()
    stats: ConversationStats | None = None


class StartFailed(_Notice):
    """Nothing the user typed is lost: messages held for the start wait for a retry."""

    kind: Literal["start_failed"] = "start_failed"
    reason: StartFailure
    message: str
    image: str = ""  # for IMAGE_MISSING


class StatusChanged(_Notice):
    """``pending_actions``: while WAITING_FOR_CONFIRMATION, the actions awaiting the
    user's approval (taken on the engine's thread, so a front end never reads them from
    the conversation's state under its lock); empty otherwise."""

    kind: Literal["status_changed"] = "status_changed"
    status: AgentStatus
    detail: str = ""
    pending_actions: tuple[ActionEvent, ...] = ()


class PhaseChanged(_Notice):
    """The session's phase changed (agent.session.commands.Phase): what is allowed did."""

    kind: Literal["phase_changed"] = "phase_changed"
    phase: str


class EventRecorded(_Notice):
    kind: Literal["event_recorded"] = "event_recorded"
    event: Event


class OutputWaiting(_Notice):
    """Live command output waits in the session: ``Session.take_output()`` drains it.

    Only the first chunk after a drain is announced, so a command printing a thousand
    lines a second posts a handful of notices, not a thousand.
    """

    kind: Literal["output_waiting"] = "output_waiting"


class ModelAsked(_Notice):
    """A step's request went to the model, built from the first ``request_event_count``
    events: the user's messages among them are no longer queued, and until the reply
    streams in (or ends) the model is thinking."""

    kind: Literal["model_asked"] = "model_asked"
    request_event_count: int


class StreamWaiting(_Notice):
    """Pieces of the reply wait in the session: ``Session.take_stream()`` drains them.

    Like OutputWaiting, only the first piece after a drain is announced, so a model
    streaming a hundred tokens a second posts a notice per drain, not per token."""

    kind: Literal["stream_waiting"] = "stream_waiting"


class StreamDeltas(_Notice):
    """What ``Session.take_stream()`` gives: the pieces since the last drain, neighbours of
    the same kind joined (a few per frame however fast the model streams)."""

    kind: Literal["stream_deltas"] = "stream_deltas"
    request_event_count: int = 0  # the request whose reply they are (ModelAsked's)
    deltas: tuple[StreamDelta, ...] = ()


class StatsChanged(_Notice):
    kind: Literal["stats_changed"] = "stats_changed"
    stats: ConversationStats


class ContainerChanged(_Notice):
    """``frozen``: the engine's freeze holds it; ``stopped``: its processes are held by
    SIGSTOP instead (where the freezer failed or is missing)."""

    kind: Literal["container_changed"] = "container_changed"
    short_id: str
    frozen: bool
    stopped: bool = False


class QueuedChanged(_Notice):
    """How many of the user's messages the model has not seen yet."""

    kind: Literal["queued_changed"] = "queued_changed"
    count: int


class RunEnded(_Notice):
    kind: Literal["run_ended"] = "run_ended"
    status: AgentStatus


class CommandFailed(_Notice):
    """A command (or a run) raised: the message says what went wrong."""

    kind: Literal["command_failed"] = "command_failed"
    command: str
    message: str


class Forked(_Notice):
    """A fork was saved (and closed): open it by id as any saved conversation."""

    kind: Literal["forked"] = "forked"
    conversation_id: str


class ChangesListed(_Notice):
    """What changed in /workspace since ``since`` (a checkpoint id; None: the start)."""

    kind: Literal["changes_listed"] = "changes_listed"
    since: str | None
    changes: list[Any]  # sandbox.checkpoints FileChange
    # Of their paths, those inside .git/ or ignored by .gitignore: shown only when asked.
    ignored: list[str] = []


class NetworkChanged(_Notice):
    """The conversation's network was changed and saved; ``now``: it holds already (False:
    at the container's next start)."""

    kind: Literal["network_changed"] = "network_changed"
    setting: Any  # agent.conversation.network.NetworkSetting
    now: bool


class Closed(_Notice):
    kind: Literal["closed"] = "closed"
    conversation_id: str | None


class Deleted(_Notice):
    """The folder is gone; ``removal_pending``: the container and volume go when the
    engine is next reachable (it was away)."""

    kind: Literal["deleted"] = "deleted"
    conversation_id: str
    removal_pending: bool = False


Notice = (
    Starting
    | Opened
    | StartFailed
    | StatusChanged
    | PhaseChanged
    | EventRecorded
    | OutputWaiting
    | ModelAsked
    | StreamWaiting
    | StreamDeltas
    | StatsChanged
    | ContainerChanged
    | QueuedChanged
    | RunEnded
    | CommandFailed
    | Forked
    | ChangesListed
    | NetworkChanged
    | Closed
    | Deleted
)
