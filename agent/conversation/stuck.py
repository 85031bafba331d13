"""Stuck detection: the model repeating itself to no effect."""

from __future__ import annotations

import json
from collections.abc import Sequence

from agent.events import ActionEvent, Event, MessageEvent, ObservationEvent

REPEATS = 4


def is_stuck(events: Sequence[Event], repeats: int = REPEATS) -> bool:
    """True when the last ``repeats`` tool calls were the same call (tool and arguments)
    with the same result, and no user message came in between."""
    observations: dict[str, ObservationEvent] = {}
    pairs: list[tuple[str, str]] = []
    for event in reversed(events):
        if isinstance(event, MessageEvent) and event.role == "user":
            break
        if isinstance(event, ObservationEvent):
            observations[event.tool_call_id] = event
        elif isinstance(event, ActionEvent):
            observation = observations.get(event.tool_call_id)
            if observation is None:
                continue
            action_key = (
                event.tool_name
                + "\0"
                + (
                    event.raw_arguments
                    if event.raw_arguments is not None
                    else json.dumps(event.arguments, sort_keys=True)
                )
            )
            pairs.append((action_key, observation.content))
            if len(pairs) >= repeats:
                break
    return len(pairs) >= repeats and len(set(pairs)) == 1
