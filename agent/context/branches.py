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
    """The events of the live branch, in order, each RewindEvent kept where it happened.

    Events form a tree: each one follows the event recorded before it, except a rewind,
    which follows the event its checkpoint came after. The live branch is the path from
    the last event back to the root; so a rewind forward, to a checkpoint of a branch
    already abandoned, brings back that branch as it stood then.
    """
    parent: dict[str, str | None] = {}
    by_id: dict[str, Event] = {}
    last: str | None = None
    for event in events:
        if isinstance(event, _META):
            continue
        if isinstance(event, RewindEvent):
            target = event.to_event_id
            parent[event.id] = target if target in by_id else None
        else:
            parent[event.id] = last
        by_id[event.id] = event
        last = event.id
    chain: list[Event] = []
    while last is not None:
        chain.append(by_id[last])
        last = parent[last]
    chain.reverse()
    return chain


def abandoned_ids(events: Sequence[Event]) -> set[str]:
    """Ids of the events a rewind left behind (checkpoints are on no branch: not listed)."""
    live = {event.id for event in live_events(events)}
    return {e.id for e in events if not isinstance(e, _META) and e.id not in live}
