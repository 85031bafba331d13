"""The HTTP client of a streamable-HTTP MCP server. With an allow-list, its requests go
through the conversation's proxy (DockerWorkspace.proxy_endpoint()), so the allow-list, the
secrets and the request log hold for them as for the agent's own; an open network reaches
the server directly. A host whose secret the proxy swaps in is decrypted there, under
this installation's CA: trusted then, besides the usual ones."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpcore2
import httpx2
from mcp.shared._httpx_utils import (
    MCP_DEFAULT_SSE_READ_TIMEOUT,
    MCP_DEFAULT_TIMEOUT,
    create_mcp_http_client,
)

from sandbox import NetworkPolicy
from sandbox.network_door.addon import denial_body

if TYPE_CHECKING:
    from sandbox import DockerWorkspace

DENIED_HEADER = "X-Berth-Denied"  # the proxy's refusals (sandbox/network_door/addon.py)


class ProxyAnswer:
    """What the proxy said when it refused a request (its 403 body names the host and how
    to allow it; the SDK keeps only "Server returned an error response")."""

    def __init__(self) -> None:
        self.refusal = ""
        self.since = datetime.now(UTC) - timedelta(seconds=2)  # the log's clock is the engine's

    async def hear(self, response: httpx2.Response) -> None:
        if response.headers.get(DENIED_HEADER) or response.status_code == 407:
            await response.aread()
            self.refusal = response.text.strip()

    def look_up(self, url: str, workspace: DockerWorkspace) -> None:
        """A refused CONNECT (HTTPS) gives the client only "403": the proxy's log has why.
        Blocking (it reads the log)."""
        if self.refusal or workspace.policy is None:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        for request in reversed(workspace.network_log()):
            if request.time < self.since:
                return  # an earlier start's
            if request.host == host and request.port == port and not request.allowed:
                self.refusal = denial_body(host, port, request.reason).strip()
                return


def http_client(
    url: str, headers: dict[str, str], workspace: DockerWorkspace, answer: ProxyAnswer
) -> httpx2.AsyncClient:
    """The client for ``url`` (blocking: it may open the proxy's relay)."""
    if workspace.policy is None:
        return create_mcp_http_client(headers=headers)
    proxy = workspace.proxy_endpoint()
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    verify: ssl.SSLContext | bool = True
    decrypted = any(NetworkPolicy(allow=s.hosts).allows(host, port) for s in workspace.secrets)
    if parts.scheme == "https" and decrypted:
        context = httpcore2.default_ssl_context()
        context.load_verify_locations(cadata=workspace.proxy_ca_certificate().decode())
        verify = context
    return httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
        proxy=proxy,
        verify=verify,
        trust_env=False,  # this machine's own proxy settings are not the conversation's
        event_hooks={"response": [answer.hear]},
    )
