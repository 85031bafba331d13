"""state.json rebuilt from events.jsonl, when it is missing, empty or damaged.

events.jsonl is the conversation; state.json only caches what a list or a reopen needs
first. So a bad state.json never makes a conversation unopenable, nor starts it over its
own events: its title, status, times and totals are read back from the events. The
workspace is found again by the container's label (the volume is named after the id).
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.conversation.state import ConversationStats, PersistedState, make_title
from agent.events import ActionEvent, Event, MessageEvent, StatusEvent


def rebuild_state(conversation_id: str, events: Sequence[Event]) -> PersistedState:
    state = PersistedState(id=conversation_id)
    if events:
        state.created = events[0].timestamp
        state.updated = events[-1].timestamp
    stats = ConversationStats()
    for event in events:
        if isinstance(event, MessageEvent) and event.role == "user" and not state.title:
            state.title = make_title(event.text) if event.text.strip() else ""
        if isinstance(event, StatusEvent):
            state.agent_status, state.status_detail = event.status, event.detail
        usage = getattr(event, "usage", None)
        if usage is not None and (isinstance(event, MessageEvent | ActionEvent)):
            stats.steps += 1
            stats.llm_calls += 1
            stats.prompt_tokens += usage.prompt_tokens
            stats.completion_tokens += usage.completion_tokens
            stats.cost += usage.cost
            stats.llm_latency_s += usage.latency_s
    state.stats = stats
    state.agent_status = state.agent_status.at_rest  # the reopen says the app stopped
    return state
