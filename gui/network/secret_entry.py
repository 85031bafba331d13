"""A secret as the settings file keeps it: its name and the hosts it may reach, never its
value (that is in the OS keyring, see secret_store.py)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

# As the agent's environment names it (sandbox.Secret checks the same when it is used).
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class SecretEntry(BaseModel):
    name: str
    hosts: list[str] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        name = name.strip()
        if not _NAME.match(name):
            raise ValueError("a secret's name is an environment variable's, e.g. GITHUB_TOKEN")
        return name

    @field_validator("hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> list[str]:
        from sandbox import NetworkPolicy

        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if not value:
            raise ValueError("name the hosts it may reach, e.g. api.github.com")
        return NetworkPolicy(allow=value).allow  # type: ignore[arg-type]
