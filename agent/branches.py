"""Which events are on the conversation's live branch, after rewinds.

``events.jsonl`` keeps everything. A RewindEvent cuts the branch back to the event its
checkpoint followed: the events between are an abandoned branch, kept for the user to look
at, never shown to the model. Rewinds stack (a rewind inside a rewound branch, a rewind
forward to a step of an abandoned branch): one pass in order handles them all.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.events import CheckpointEvent, CheckpointFailedEvent, Event, RewindEvent

# Bookkeeping, not history: a checkpoint belongs to no branch (any of them can be restored).
_META = (CheckpointEvent, CheckpointFailedEvent)


def live_events(events: Sequence[Event]) -> list[Event]:
    """The events of the live branch, in order, each RewindEvent kept where it happened."""
    live: list[Event] = []
    position: dict[str, int] = {}
    for event in events:
        if isinstance(event, _META):
            continue
        if isinstance(event, RewindEvent):
            keep = position.get(event.to_event_id, -1) + 1 if event.to_event_id else 0
            for dropped in live[keep:]:
                position.pop(dropped.id, None)
            del live[keep:]
        position[event.id] = len(live)
        live.append(event)
    return live


def abandoned_ids(events: Sequence[Event]) -> set[str]:
    """Ids of the events a rewind left behind (checkpoints are on no branch: not listed)."""
    live = {event.id for event in live_events(events)}
    return {e.id for e in events if not isinstance(e, _META) and e.id not in live}
