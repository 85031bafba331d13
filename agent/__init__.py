"""Berth's conversation engine: LLM, Agent, Conversation, events. Knows nothing of Qt.

Importing this package is cheap: litellm and the Docker SDK are imported when first used.
"""

from agent.agent import Agent
from agent.conversation import Conversation, ConversationState
from agent.llm import LLM, LLMError
from agent.persistence import default_persistence_dir, list_conversations
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
    "Tool",
    "default_persistence_dir",
    "list_conversations",
    "register_tool",
]
