"""Secrets the agent uses but never holds: a placeholder in its environment, the value put
into request headers by the conversation's proxy, and only on the secret's own hosts.

The value leaves this process once, as a file the proxy reads and then deletes
(sandbox/network_door/addon.py): never an environment variable, a label or a command line
of any container, never in the workspace's spec (sandbox/network_door/proxy.py).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sandbox.errors import SandboxError
from sandbox.network_door.policy import Network, NetworkPolicy, normalize_entry

PREFIX = "berth-secret-"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# A header value may not hold these: the value must not split one header into two.
_UNSAFE = ("\r", "\n", "\0")


class Secret(BaseModel):
    """``Secret(name="GITHUB_TOKEN", value=SecretStr(...), hosts=["api.github.com"])``: the
    agent's environment has ``GITHUB_TOKEN`` set to a placeholder; the proxy swaps it for
    the value in request headers to these hosts (as the allow-list writes them: exact,
    ``*.suffix``, optional ``:port``), and sends it unchanged anywhere else."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: SecretStr
    hosts: list[str] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                f"{name!r}: a secret's name is an environment variable's, e.g. GITHUB_TOKEN"
            )
        return name

    @field_validator("value")
    @classmethod
    def _value(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if not text:
            raise ValueError("a secret's value is empty")
        if any(char in text for char in _UNSAFE):
            raise ValueError("a secret's value cannot hold a line break or NUL (headers do not)")
        return value

    @field_validator("hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ValueError("hosts is a list, e.g. ['api.github.com', '*.github.com']")
        return list(dict.fromkeys(normalize_entry(entry) for entry in value))


class SecretSet:
    """A workspace's secrets and the placeholders that stand for them in its container."""

    def __init__(self, given: Iterable[Secret], network: Network) -> None:
        self.secrets = list(given)
        names = [secret.name for secret in self.secrets if isinstance(secret, Secret)]
        if len(names) != len(self.secrets):
            raise SandboxError("secrets= takes Secret(name=..., value=..., hosts=[...]) items")
        if len(set(names)) != len(names):
            raise SandboxError(f"Two secrets have one name: {sorted(names)}")
        if self.secrets and not isinstance(network, NetworkPolicy):
            raise SandboxError(
                "Secrets reach their hosts through the conversation's network proxy: give "
                "network=NetworkPolicy(allow=[...]) with the secrets' hosts on it"
            )
        self.placeholders = {name: f"{PREFIX}{name}-{secrets.token_hex(12)}" for name in names}

    def adopt(self, env: Iterable[str]) -> None:
        """Keep the placeholders a reattached container already has in its environment."""
        for line in env:
            name, _, value = line.partition("=")
            if name in self.placeholders and value.startswith(f"{PREFIX}{name}-"):
                self.placeholders[name] = value

    def payload(self) -> bytes:
        """What the proxy reads: each placeholder with its value and hosts."""
        entries = [
            {
                "placeholder": self.placeholders[secret.name],
                "value": secret.value.get_secret_value(),
                "hosts": secret.hosts,
            }
            for secret in self.secrets
        ]
        return json.dumps({"secrets": entries}).encode()
