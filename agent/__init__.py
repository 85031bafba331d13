"""Berth's conversation engine: LLM, Agent, Conversation, events. Knows nothing of Qt.

A front end drives a conversation through a ``Session`` (agent/session.py: commands on a
thread of its own, what happens as ``notices``); the Conversation is its engine.

Importing this package is cheap: each name below is imported when first asked for
(PEP 562), so ``from agent.status import AgentStatus`` costs the window one small module,
not the whole engine; litellm and the Docker SDK are imported when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent import notices
    from agent.agent import Agent
    from agent.conversation import Conversation, ConversationState
    from agent.llm import LLM, LLMError
    from agent.persistence import default_persistence_dir, list_conversations
    from agent.session import Session, conversation_factory
    from agent.state import ConversationStats, ConversationSummary
    from agent.status import AgentStatus
    from agent.tool import Tool, register_tool

# Each exported name and the module that holds it.
_HOMES = {
    "LLM": "agent.llm",
    "Agent": "agent.agent",
    "AgentStatus": "agent.status",
    "Conversation": "agent.conversation",
    "ConversationState": "agent.conversation",
    "ConversationStats": "agent.state",
    "ConversationSummary": "agent.state",
    "LLMError": "agent.llm",
    "Session": "agent.session",
    "Tool": "agent.tool",
    "conversation_factory": "agent.session",
    "default_persistence_dir": "agent.persistence",
    "list_conversations": "agent.persistence",
    "register_tool": "agent.tool",
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
        return importlib.import_module("agent.notices")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
