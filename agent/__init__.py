"""Berth's conversation engine: LLM, Agent, Conversation, events. Knows nothing of Qt.

A front end drives a conversation through a ``Session`` (agent/session.py: commands on a
thread of its own, what happens as ``notices``); the Conversation is its engine.

Importing this package is cheap: litellm and the Docker SDK are imported when first used.
"""

from agent import notices
from agent.agent import Agent
from agent.conversation import Conversation, ConversationState
from agent.llm import LLM, LLMError
from agent.persistence import default_persistence_dir, list_conversations
from agent.session import Session, conversation_factory
from agent.state import ConversationStats, ConversationSummary
from agent.status import AgentStatus
from agent.tool import Tool, register_tool

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
