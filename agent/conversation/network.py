"""A conversation's network door from the agent's side: its mode and allow-list changed while
it lives (kept in state.json, applied to the running proxy), and its secrets' values filled
in by name when it is reopened (state.json keeps only names and hosts).

Modes: ``off`` (no network), ``open`` (any address, no proxy), ``allow-list`` (only HTTP and
HTTPS to the listed hosts, through the conversation's proxy). A new allow-list holds at the
proxy's next request; a change between modes takes effect when the container next starts
(its network is wired at creation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, SecretStr

from agent.conversation.state import WorkspaceSpec

if TYPE_CHECKING:
    from sandbox import DockerWorkspace, NetworkPolicy, Secret

log = logging.getLogger(__name__)

NetworkMode = Literal["off", "allow-list", "open"]
MODES: tuple[NetworkMode, ...] = ("off", "allow-list", "open")
# Given a saved secret's name, its value (None: not known here; it is left out).
SecretLookup = Callable[[str], "SecretStr | str | None"]


class NetworkSetting(BaseModel):
    """A conversation's network as a front end shows and edits it."""

    mode: NetworkMode = "open"
    allow: list[str] = []

    def as_workspace_network(self) -> bool | NetworkPolicy:
        """What ``DockerWorkspace(network=...)`` takes; a bad entry raises ValueError."""
        if self.mode == "allow-list":
            from sandbox import NetworkPolicy

            return NetworkPolicy(allow=self.allow)
        return self.mode == "open"

    @classmethod
    def of_spec(cls, spec: WorkspaceSpec) -> NetworkSetting:
        if not spec.network:
            return cls(mode="off", allow=list(spec.allow or []))
        if spec.allow is None:
            return cls(mode="open")
        return cls(mode="allow-list", allow=list(spec.allow))


def with_network(spec: WorkspaceSpec, network: bool | NetworkPolicy) -> WorkspaceSpec:
    """The spec with its network replaced (an allow-list kept when switched off, so turning
    it back on finds it)."""
    allow = getattr(network, "allow", None)
    if network is False:
        return spec.model_copy(update={"network": False})
    return spec.model_copy(
        update={"network": True, "allow": list(allow) if allow is not None else None}
    )


def apply_network(workspace: DockerWorkspace, network: bool | NetworkPolicy) -> bool:
    """Give the workspace its new network; True when it holds at once (a new allow-list
    for a proxy already running), False when it waits for the next start."""
    from sandbox import NetworkPolicy

    before = workspace.network
    if isinstance(network, NetworkPolicy):
        workspace.set_network_policy(network)
        return isinstance(before, NetworkPolicy)
    workspace.network = network
    return before is network


def with_host(network: bool | NetworkPolicy, host: str) -> NetworkPolicy:
    """The allow-list with ``host`` added (ValueError when it is not an allow-list, or the
    host is not one an allow-list can name)."""
    from sandbox import NetworkPolicy

    if not isinstance(network, NetworkPolicy):
        raise ValueError("This conversation has no allow-list: its network is off or open")
    return NetworkPolicy(allow=[*network.allow, host])


def fill_secrets(spec: WorkspaceSpec, lookup: SecretLookup | None) -> list[Secret]:
    """The saved secrets whose values ``lookup`` knows (others are left out, logged: their
    placeholders then reach the hosts unchanged)."""
    if not spec.secrets or lookup is None or not spec.network or spec.allow is None:
        return []
    from sandbox import Secret

    found: list[Secret] = []
    for saved in spec.secrets:
        try:
            value = lookup(saved.name)
        except Exception:  # a locked keyring: the conversation still opens
            log.warning("could not read the secret %s", saved.name, exc_info=True)
            value = None
        if not value:
            log.warning("no value for the secret %s: it is left out", saved.name)
            continue
        secret = value if isinstance(value, SecretStr) else SecretStr(value)
        found.append(Secret(name=saved.name, value=secret, hosts=saved.hosts))
    return found


def keep_saved_secrets(spec: WorkspaceSpec, saved: WorkspaceSpec | None) -> WorkspaceSpec:
    """A reopened workspace without some saved secret's value still lists it: the next
    reopen (with the value) brings it back."""
    if saved is None or not saved.secrets:
        return spec
    names = {s.name for s in spec.secrets}
    missing = [s for s in saved.secrets if s.name not in names]
    if not missing:
        return spec
    return spec.model_copy(update={"secrets": [*spec.secrets, *missing]})


# Hosts a user commonly lets a coding agent reach, offered as one click each.
PRESETS: dict[str, tuple[str, ...]] = {
    "Python packages": ("pypi.org", "files.pythonhosted.org"),
    "npm packages": ("registry.npmjs.org",),
    "Debian packages": ("deb.debian.org", "security.debian.org"),
    "GitHub": ("github.com", "*.github.com", "*.githubusercontent.com", "codeload.github.com"),
}
