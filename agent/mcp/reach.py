"""Whether an HTTP server may be tried. No network refuses it; an allow-list is the
proxy's to apply (the request goes through it: agent/mcp/http_client.py). And a server
named in /workspace/.mcp.json, a file the agent can write, never reaches this machine's own
or private addresses (the container is fenced from them; this must not open a way round)
unless the allow-list names that address itself."""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sandbox import NetworkPolicy


def refusal(url: str, network: bool | NetworkPolicy, from_workspace: bool) -> str:
    """Why this server may not be reached ("" when it may). Resolves the host: blocking."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if network is False:
        return f"the conversation has no network, so {host} cannot be reached"
    # The user named this address on the allow-list (a name never counts: the proxy's rule).
    listed = network is not True and _is_address(host) and network.allows(host, port)
    if from_workspace and not listed:
        inner = _inner_address(host, port)
        if inner:
            return (
                f"{host} is {inner}, and this server is named in /workspace/.mcp.json, "
                "which the agent can write: it may not reach this machine or its network. "
                "Give the server in the app's settings (or Agent(mcp_servers=...)) to use it"
            )
    return ""


def _inner_address(host: str, port: int) -> str:
    """How an address of this machine or a private network reads ("" for a public one)."""
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except OSError:
        return ""  # unresolvable: the connection fails on its own, with its own error
    for text in found:
        address = ipaddress.ip_address(str(text).split("%")[0])
        if address.is_loopback:
            return f"this machine ({address})"
        if address.is_private or address.is_link_local or address.is_reserved:
            return f"a private address ({address})"
    return ""


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
