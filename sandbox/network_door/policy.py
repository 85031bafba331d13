"""What a conversation may reach through its proxy: the allow-list, and one request's record.

An entry is an exact host (``pypi.org``), a suffix (``*.githubusercontent.com``: any name
under it, not the bare name), or an address (``10.0.0.5``, ``[fd00::1]``), each with an
optional ``:port`` (without one, any port). Names are kept lower-case, without a final dot.
An address written in the list is the one way to reach a private address: a name that
resolves to one is refused (see sandbox/network_door/addon.py).
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

# A DNS label: letters, digits, hyphens (not at either end); underscores are seen in the
# wild (_dmarc, some CDNs), so they pass too.
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


class NetworkPolicy(BaseModel):
    """``DockerWorkspace(network=NetworkPolicy(allow=[...]))``: only HTTP and HTTPS to these
    hosts, through a proxy of the conversation's own."""

    model_config = ConfigDict(frozen=True)

    allow: list[str] = Field(default_factory=list)

    @field_validator("allow", mode="before")
    @classmethod
    def _entries(cls, value: object) -> list[str]:
        if isinstance(value, str):
            value = [value]  # allow="pypi.org" is a list of one, not of characters
        if not isinstance(value, (list, tuple)):
            raise ValueError("allow is a list of hosts, e.g. ['pypi.org', '*.github.com']")
        seen: list[str] = []
        for entry in value:
            normal = normalize_entry(entry)
            if normal not in seen:
                seen.append(normal)
        return seen

    def allows(self, host: str, port: int) -> bool:
        """The proxy would let a request to ``host:port`` through (by its name)."""
        from sandbox.network_door.addon import name_allowed

        return name_allowed(self.allow, host, port)


def normalize_entry(entry: object) -> str:
    """The entry as kept, or ValueError saying what is wrong with it."""
    if not isinstance(entry, str):
        raise ValueError(f"An allow-list entry is a string like 'pypi.org', not {entry!r}")
    text = entry.strip().lower()
    if not text:
        raise ValueError("An allow-list entry is empty")
    if "://" in text or "/" in text:
        raise ValueError(
            f"{entry!r} looks like a URL: write the host alone, e.g. 'pypi.org' or 'pypi.org:443'"
        )
    host, port = split_port(text, entry)
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"{entry!r}: the port must be between 1 and 65535")
    suffix = port_suffix(port)
    address = _address(host)
    if address is not None:
        shown = f"[{address}]" if address.version == 6 else str(address)
        return shown + suffix
    wildcard = host.startswith("*.")
    name = host[2:] if wildcard else host
    name = name.rstrip(".")
    labels = name.split(".")
    if "*" in name or not name or not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            f"{entry!r} is not a host name: use an exact name ('pypi.org'), a suffix "
            "('*.github.com'), or an address, each with an optional ':port'"
        )
    if wildcard and len(labels) < 2:
        raise ValueError(f"{entry!r} would allow a whole top-level domain: name one below it")
    return ("*." if wildcard else "") + name + suffix


def split_port(text: str, entry: object) -> tuple[str, int | None]:
    if text.startswith("["):  # [v6] or [v6]:port
        close = text.find("]")
        if close < 0:
            raise ValueError(f"{entry!r}: an IPv6 address in brackets lacks its ']'")
        rest = text[close + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"{entry!r}: only ':port' may follow the address")
        return text[1:close], _port(rest[1:], entry) if rest else None
    if text.count(":") > 1:  # a bare IPv6 address, no port
        return text, None
    host, colon, port = text.partition(":")
    return host, _port(port, entry) if colon else None


def port_suffix(port: int | None) -> str:
    return f":{port}" if port is not None else ""


def _port(text: str, entry: object) -> int:
    if not text.isdigit():
        raise ValueError(f"{entry!r}: the port after ':' must be a number")
    return int(text)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def not_allowed(allow: list[str], hosts: list[str]) -> list[str]:
    """The entries of ``hosts`` (a secret's) that the allow-list ``allow`` does not let
    through, judged as the proxy does (a ``*.suffix`` by a name under it, no port as 443):
    a secret goes out only where the list allows, so those hosts never get it."""
    from sandbox.network_door.addon import name_allowed, parse_entry

    missing = []
    for entry in hosts:
        host, port = parse_entry(entry)
        probe = "berth-probe" + host[1:] if host.startswith("*.") else host
        if entry not in allow and not name_allowed(allow, probe, port or 443):
            missing.append(entry)
    return missing


class NetworkRequest(BaseModel):
    """One request the proxy saw: allowed or denied, with the bytes it carried (both ways)."""

    time: datetime
    host: str
    port: int
    method: str
    allowed: bool
    bytes: int = 0
    reason: str = ""


Network = bool | NetworkPolicy
