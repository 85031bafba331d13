"""Berth's conversation engine: LLM, Agent, Conversation, events. Knows nothing of Qt."""

from agent.status import AgentStatus
from agent.tool import Tool, register_tool

__all__ = ["AgentStatus", "Tool", "register_tool"]
