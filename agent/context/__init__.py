"""What the model sees of a conversation: the context window and the request built for it
(window.py, history.py, branches.py), condensation of older steps (condenser.py, keeper.py)
and AGENTS.md (agents_file.py). The keeper acts on the conversation only through the
protocol of host.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.lazy import lazy_exports

if TYPE_CHECKING:
    from agent.context.agents_file import read_agents_file
    from agent.context.branches import live_events
    from agent.context.history import answers_for_pending, build_messages, pending_actions
    from agent.context.host import AskedJob, EngineHost, Instructions
    from agent.context.keeper import ContextKeeper
    from agent.context.window import ContextWindow, Request

_HOMES = {
    "AskedJob": "agent.context.host",
    "ContextKeeper": "agent.context.keeper",
    "ContextWindow": "agent.context.window",
    "EngineHost": "agent.context.host",
    "Instructions": "agent.context.host",
    "Request": "agent.context.window",
    "answers_for_pending": "agent.context.history",
    "build_messages": "agent.context.history",
    "live_events": "agent.context.branches",
    "pending_actions": "agent.context.history",
    "read_agents_file": "agent.context.agents_file",
}

__all__ = [
    "AskedJob",
    "ContextKeeper",
    "ContextWindow",
    "EngineHost",
    "Instructions",
    "Request",
    "answers_for_pending",
    "build_messages",
    "live_events",
    "pending_actions",
    "read_agents_file",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
