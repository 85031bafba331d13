"""Berth's conversation engine: LLM, Agent, Conversation, events. Knows nothing of Qt.

A front end drives a conversation through a ``Session`` (agent/session/: commands on a
thread of its own, what happens as ``notices``); the Conversation is its engine.

Where things are (each room imports only those below it; pyproject.toml's contracts):

    cli/           ``berth run``: a conversation in the terminal
    session/       a conversation's life for a front end: Session, command rules, notices
    conversation/  the loop, its live state and recording, persistence, recovery, pausing,
                   the container, checkpoints (rewind, fork), deletion
    context/       what the model sees: the window, history shaping, condensation, AGENTS.md
    tools/         the tools the model calls, and the registry (Tool, register_tool)
    llm/           the model (litellm only here), its helper process, replies, redaction,
                   prompt caching
    agent.py, events.py, status.py   the Agent, the events, AgentStatus: shared by all
    background.py, lazy.py           background threads; these lazy re-exports

Importing this package is cheap: each name below is imported when first asked for
(PEP 562), so ``from agent.status import AgentStatus`` costs the window one small module,
not the whole engine; litellm and the Docker SDK are imported when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.agent import Agent
    from agent.conversation.conversation import Conversation
    from agent.conversation.engine import ConversationState
    from agent.conversation.persistence import default_persistence_dir, list_conversations
    from agent.conversation.state import ConversationStats, ConversationSummary
    from agent.llm.model import LLM, LLMError
    from agent.session import notices
    from agent.session.session import Session, conversation_factory
    from agent.status import AgentStatus
    from agent.tools.registry import Tool, register_tool

# Each exported name and the module that holds it.
_HOMES = {
    "LLM": "agent.llm.model",
    "Agent": "agent.agent",
    "AgentStatus": "agent.status",
    "Conversation": "agent.conversation.conversation",
    "ConversationState": "agent.conversation.engine",
    "ConversationStats": "agent.conversation.state",
    "ConversationSummary": "agent.conversation.state",
    "LLMError": "agent.llm.model",
    "Session": "agent.session.session",
    "Tool": "agent.tools.registry",
    "conversation_factory": "agent.session.session",
    "default_persistence_dir": "agent.conversation.persistence",
    "list_conversations": "agent.conversation.persistence",
    "register_tool": "agent.tools.registry",
}

__all__ = [
    "LLM",
    "Agent",
    "AgentStatus",
    "Conversation",
    "ConversationState",
    "ConversationStats",
    "ConversationSummary",
    "LLMError",
    "Session",
    "Tool",
    "conversation_factory",
    "default_persistence_dir",
    "list_conversations",
    "notices",
    "register_tool",
]


def __getattr__(name: str) -> Any:
    if name == "notices":
        return importlib.import_module("agent.session.notices")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
