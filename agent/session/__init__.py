"""A conversation's life for a front end: the ``Session`` (commands on a thread of its own),
the rules of which command a phase and status allow (commands.py), and what happens, as
``notices`` (notices.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.lazy import lazy_exports

if TYPE_CHECKING:
    from agent.session import notices
    from agent.session.commands import STARTS_A_RUN, Command, Phase, allowed_commands
    from agent.session.session import Session, conversation_factory

_HOMES = {
    "Command": "agent.session.commands",
    "Phase": "agent.session.commands",
    "STARTS_A_RUN": "agent.session.commands",
    "Session": "agent.session.session",
    "allowed_commands": "agent.session.commands",
    "conversation_factory": "agent.session.session",
    "notices": "agent.session.notices",
}

__all__ = [
    "STARTS_A_RUN",
    "Command",
    "Phase",
    "Session",
    "allowed_commands",
    "conversation_factory",
    "notices",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
