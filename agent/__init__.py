"""Berth's conversation engine: LLM, Agent, Conversation, events. Knows nothing of Qt."""

from agent.status import AgentStatus

__all__ = ["AgentStatus"]
