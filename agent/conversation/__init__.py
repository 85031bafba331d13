"""A conversation: the loop (loop.py) and its public face (conversation.py), its live state
and recording (engine.py), persistence (persistence.py, state.py), recovery after a crash
or a dead container (recovery.py), pausing (pausing.py), its container (workspace.py),
checkpoints, rewinds and forks (checkpoints.py), deletion (deletion.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.lazy import lazy_exports

if TYPE_CHECKING:
    from agent.conversation.checkpoints import Checkpoint, CheckpointKeeper
    from agent.conversation.conversation import Conversation
    from agent.conversation.engine import ConversationState
    from agent.conversation.persistence import (
        ConversationStore,
        PersistenceError,
        default_persistence_dir,
        list_conversations,
    )
    from agent.conversation.state import ConversationStats, ConversationSummary, PersistedState

_HOMES = {
    "Checkpoint": "agent.conversation.checkpoints",
    "CheckpointKeeper": "agent.conversation.checkpoints",
    "Conversation": "agent.conversation.conversation",
    "ConversationState": "agent.conversation.engine",
    "ConversationStats": "agent.conversation.state",
    "ConversationStore": "agent.conversation.persistence",
    "ConversationSummary": "agent.conversation.state",
    "PersistedState": "agent.conversation.state",
    "PersistenceError": "agent.conversation.persistence",
    "default_persistence_dir": "agent.conversation.persistence",
    "list_conversations": "agent.conversation.persistence",
}

__all__ = [
    "Checkpoint",
    "CheckpointKeeper",
    "Conversation",
    "ConversationState",
    "ConversationStats",
    "ConversationStore",
    "ConversationSummary",
    "PersistedState",
    "PersistenceError",
    "default_persistence_dir",
    "list_conversations",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
