"""What a session answers beside a run: queries and changes that never wait for the agent.

Listing the changes in /workspace, changing the network (an allow-list holds at the
proxy's next request, even mid-run: the agent may retry at once) or the model endpoint:
each works on the open conversation while a run goes on (Docker's answer comes on a thread
of its own) and reports by notice; a failure is a ``CommandFailed`` naming the command
("changes", "network"). ``Session`` takes these from this mixin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent import background
from agent.conversation.ignored import ignored_changes
from agent.session import notices as n
from agent.session.commands import Phase

if TYPE_CHECKING:
    from agent.conversation.conversation import Conversation
    from agent.mcp.config import ToolApproval
    from sandbox import NetworkPolicy

log = logging.getLogger(__name__)


class SessionQueries:
    """Needs ``_conversation`` and ``_notify`` (the Session has them)."""

    _conversation: Conversation | None
    _phase: Phase

    def _notify(self, notice: n.Notice) -> None:
        raise NotImplementedError

    def changes(self, since: str | None = None) -> bool:
        """List what changed in /workspace since a checkpoint (None: the start), as a
        ``ChangesListed`` notice. A query: it runs beside a run, not after it."""

        def listed(c: Conversation) -> n.ChangesListed:
            changes = list(c.changes(since))
            hidden = ignored_changes(c.workspace, [change.path for change in changes])
            return n.ChangesListed(since=since, changes=changes, ignored=hidden)

        return self._beside_a_run("changes", listed)

    def set_network(self, network: bool | NetworkPolicy) -> bool:
        """A new network for the open conversation, saved and applied (a new allow-list at
        the proxy's next request; a change of mode at the container's next start); a
        ``NetworkChanged`` notice says which."""
        return self._beside_a_run(
            "network",
            lambda c: n.NetworkChanged(now=c.set_network(network), setting=c.network),
        )

    def allow_host(self, host: str) -> bool:
        """Add ``host`` to the open conversation's allow-list: its next request passes."""
        return self._beside_a_run(
            "network", lambda c: n.NetworkChanged(now=c.allow_host(host), setting=c.network)
        )

    def set_llm(self, llm: Any, condensation_llm: Any = None) -> bool:
        """The model endpoint from the next request on (Settings changed the key, URL or
        model); False when the conversation is not open yet (its start reads them then)."""
        conversation = self._conversation
        if conversation is None:
            return False
        conversation.set_llm(llm, condensation_llm)
        return True

    def set_mcp_approvals(self, approvals: dict[str, ToolApproval]) -> bool:
        """Each MCP tool's approval from its next call on (Settings saved them); False when
        the conversation is not open yet (its start reads them then)."""
        conversation = self._conversation
        if conversation is None:
            return False
        conversation.set_mcp_approvals(approvals)
        return True

    def _beside_a_run(self, command: str, work: Callable[[Conversation], n.Notice]) -> bool:
        conversation = self._conversation
        if conversation is None or self._phase is Phase.CLOSED:
            return False

        def run() -> None:
            try:
                notice = work(conversation)
            except Exception as exc:
                log.warning("%s failed", command, exc_info=True)
                self._notify(n.CommandFailed(command=command, message=describe(exc)))
                return
            self._notify(notice)

        background.start(f"session-{command}", run, daemon=True)
        return True


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
