"""The mitmproxy addon that the conversation's proxy container runs (proxy.py starts it).

It is copied into that container, so it imports nothing of Berth. Each request (plain
HTTP, or a CONNECT for HTTPS) is checked against the allow-list in ``POLICY_FILE``
(re-read whenever it changes, so a new policy holds at once), its name resolved here and
the address pinned, so a name on the list cannot lead to a private address (the engine's
host, a metadata service, another container) unless that address itself is on the list.
Every request lands in ``LOG_FILE``, one JSON object a line. HTTPS is passed through
untouched (a TCP tunnel, bytes counted: tunnel_relay.py), never decrypted, except to a
host of one of the conversation's secrets: there mitmproxy shows a certificate of the
installation's CA (which the agent trusts), and each request's headers get the secret's
value in place of its placeholder. ``SECRETS_FILE`` is read once and deleted: the values
live in memory only, and no log line holds a header.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hmac
import ipaddress
import json
import logging
import os
import socket
import time
from typing import Any

POLICY_FILE = "/berth/policy.json"
LOG_FILE = "/berth/log/requests.jsonl"
SECRETS_FILE = "/berth/secrets.json"
RELAY_TOKEN_FILE = "/berth/relay-token"
UPSTREAM_EXTRA = "/berth/conf/upstream-extra.pem"
UPSTREAM_BUNDLE = "/berth/conf/upstream-ca.pem"
# Refused even when a name on the list resolves to them: only an address written in the
# list reaches them. Private, shared, loopback, link-local (the cloud metadata service),
# multicast and unspecified ranges, in both families.
_REFUSED = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
        "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    )
]  # fmt: skip

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# How long a name's addresses are kept: short, so a name moved elsewhere is soon followed.
RESOLVED_S = 5.0


def refused_range(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return any(address in net for net in _REFUSED if net.version == address.version)


def parse_entry(entry: str) -> tuple[str, int | None]:
    """An entry as the host side normalized it: host (or [v6]) and its port, or None."""
    if entry.startswith("["):
        close = entry.index("]")
        rest = entry[close + 1 :]
        return entry[1:close], int(rest[1:]) if rest else None
    if entry.count(":") > 1:
        return entry, None
    host, colon, port = entry.partition(":")
    return host, int(port) if colon else None


def name_allowed(allow: list[str], host: str, port: int) -> bool:
    host = host.lower().rstrip(".")
    for entry in allow:
        name, only = parse_entry(entry)
        if only is not None and only != port:
            continue
        if name.startswith("*."):
            if host.endswith(name[1:]):
                return True
        elif _same_host(name, host):
            return True
    return False


def address_listed(allow: list[str], address: Address, port: int) -> bool:
    """The address itself is on the list (with that port, or any)."""
    for entry in allow:
        name, only = parse_entry(entry)
        with contextlib.suppress(ValueError):
            if ipaddress.ip_address(name) == address and only in (None, port):
                return True
    return False


def _same_host(name: str, host: str) -> bool:
    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return name == host


def denial_body(host: str, port: int, reason: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return (
        f"Berth's network policy blocked {shown}:{port}: {reason}.\n"
        f'To allow it, add "{shown}" (or "{shown}:{port}") to this conversation\'s network '
        'allow-list: the Network tab\'s "Allow this host", Settings, or '
        "NetworkPolicy(allow=[...]) in the SDK. Ask the user if you need it.\n"
    )


class Door:
    def __init__(self) -> None:
        self.allow: list[str] = []
        self._seen: str | None = None
        self._tunnels: dict[str, dict[str, Any]] = {}
        self._intercepted: dict[str, dict[str, Any]] = {}  # tunnels decrypted for a secret
        self._passing: dict[str, dict[str, Any]] = {}  # tunnels passed through, until closed
        self.secrets: list[dict[str, Any]] = []
        self._resolved: dict[tuple[str, int], tuple[float, list[Address]]] = {}
        self._log_file: Any = None  # kept open: one write a request

    def load(self, _loader: Any) -> None:
        # mitmproxy logs each connection's opening and closing at INFO, and hands every
        # record to each of its ~40 addons: a third of a request's CPU, for lines that
        # termlog_verbosity=warn never shows.
        logging.getLogger("mitmproxy.proxy.server").setLevel(logging.WARNING)

    def running(self) -> None:
        self._load_secrets()  # written before the start: on disk no longer than this
        self._trust_upstream()

    def _trust_upstream(self) -> None:
        """Extra CAs to trust upstream, besides the public ones (tests' own servers)."""
        try:
            with open(UPSTREAM_EXTRA, "rb") as handle:
                extra = handle.read()
        except OSError:
            return
        if not extra.strip():
            return
        import certifi
        from mitmproxy import ctx  # type: ignore[import-not-found]

        with open(certifi.where(), "rb") as public, open(UPSTREAM_BUNDLE, "wb") as out:
            out.write(public.read() + b"\n" + extra)
        ctx.options.update(ssl_verify_upstream_trusted_ca=UPSTREAM_BUNDLE)

    # -- secrets ---------------------------------------------------------------------------

    def _load_secrets(self) -> None:
        try:
            with open(SECRETS_FILE, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            return
        try:
            entries = json.loads(text)["secrets"]
            loaded = [
                {"placeholder": str(e["placeholder"]), "value": str(e["value"]),
                 "hosts": [str(host) for host in e["hosts"]]}
                for e in entries
            ]  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return  # half written: the next request reads it again
        self.secrets = loaded
        with contextlib.suppress(OSError):
            os.unlink(SECRETS_FILE)

    def _secrets_for(self, host: str, port: int) -> list[dict[str, Any]]:
        self._load_secrets()
        return [s for s in self.secrets if name_allowed(s["hosts"], host, port)]

    def _put_secrets(self, flow: Any, host: str, port: int) -> None:
        """The placeholders of ``host``'s secrets swapped for their values, in headers only."""
        for secret in self._secrets_for(host, port):
            placeholder, value = secret["placeholder"], secret["value"]
            for name in list(flow.request.headers.keys()):
                values = flow.request.headers.get_all(name)
                if any(placeholder in each for each in values):
                    swapped = [each.replace(placeholder, value) for each in values]
                    flow.request.headers.set_all(name, swapped)

    # -- the policy ------------------------------------------------------------------------

    def _reload(self) -> None:
        # Read at every request (a few bytes): a policy written twice in one second, of
        # one size, must still take (the engine keeps whole seconds of a file's time).
        try:
            with open(POLICY_FILE, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            self.allow = []
            return
        if text == self._seen:
            return
        try:
            allow = json.loads(text)["allow"]
        except (ValueError, KeyError, TypeError):
            return  # half written: the next request reads it again
        self.allow = [str(entry) for entry in allow]
        self._seen = text

    async def decide(self, host: str, port: int) -> tuple[str | None, str]:
        """(the address to connect to, "") or (None, why not)."""
        self._reload()
        if not name_allowed(self.allow, host, port):
            return None, "it is not on the allow-list"
        try:
            literal: Address | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            try:
                found = await self._resolve(host, port)
            except OSError:
                return None, "its name does not resolve"
        for address in found:
            if not refused_range(address) or address_listed(self.allow, address, port):
                return str(address), ""
        return None, (
            f"it resolves to a private or local address ({found[0]}), which only an "
            "address written in the allow-list may reach"
        )

    async def _resolve(self, host: str, port: int) -> list[Address]:
        """The name's addresses, remembered for RESOLVED_S: a lookup (the engine's DNS, in
        a thread) was a good part of a new connection's time. Each is checked again at
        every request (decide), against the policy of the moment."""
        key, now = (host.lower(), port), time.monotonic()
        kept = self._resolved.get(key)
        if kept is not None and now - kept[0] < RESOLVED_S:
            return kept[1]
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if len(self._resolved) > 1000:
            self._resolved.clear()
        self._resolved[key] = (now, found)
        return found

    # -- this machine's clients, through the relay (sandbox/network_door/relay.py) ---------

    def _relay_refused(self, flow: Any) -> bool:
        """A connection from this container's loopback came through the relay, which anything
        on the user's machine can reach: it must carry the relay's token. Refused (407) when
        it does not; the token never goes on upstream."""
        headers = flow.request.headers
        given = headers.get("Proxy-Authorization", "")
        if "Proxy-Authorization" in headers:
            del headers["Proxy-Authorization"]
        peer = flow.client_conn.peername
        try:
            address = ipaddress.ip_address(str(peer[0]).split("%")[0]) if peer else None
        except ValueError:
            address = None
        mapped = getattr(address, "ipv4_mapped", None)
        if address is None or not (mapped or address).is_loopback:
            return False  # the agent's container, from the door network
        try:
            with open(RELAY_TOKEN_FILE, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError:
            token = ""
        wanted = "Basic " + base64.b64encode(f"berth:{token}".encode()).decode()
        if token and hmac.compare_digest(given.encode(), wanted.encode()):
            return False
        from mitmproxy import http

        flow.metadata["berth_denied"] = True
        flow.response = http.Response.make(
            407,
            "This proxy's relay needs its token (Proxy-Authorization).\n",
            {"Content-Type": "text/plain; charset=utf-8", "Proxy-Authenticate": "Basic"},
        )
        return True

    # -- plain HTTP ------------------------------------------------------------------------

    async def requestheaders(self, flow: Any) -> None:
        # Decided here, on the headers: a request with a body is streamed, and its server
        # connection made, before the `request` hook would run.
        if flow.request.method == "CONNECT" or flow.response is not None:
            return
        tunnel = self._intercepted.get(flow.client_conn.id)
        if tunnel is not None:
            # Inside a tunnel decrypted for a secret: to the server its CONNECT named and
            # was pinned to, whatever this request's Host header says.
            host, port = tunnel["host"], tunnel["port"]
            flow.request.data.host, flow.request.data.port = tunnel["address"], port
        else:
            if self._relay_refused(flow):
                return
            host, port = flow.request.host, flow.request.port
            address, reason = await self.decide(host, port)
            if address is None:
                self._deny(flow, host, port, reason)
                return
            header = flow.request.host_header
            flow.request.host = address  # pinned: no second lookup that could answer otherwise
            flow.request.host_header = header
        flow.metadata["berth_host"] = host
        self._put_secrets(flow, host, port)
        flow.metadata["berth_bytes"] = 0
        flow.request.stream = self._counter(flow)

    def responseheaders(self, flow: Any) -> None:
        flow.response.stream = self._counter(flow)

    def _counter(self, flow: Any) -> Any:
        def count(chunk: bytes) -> bytes:
            flow.metadata["berth_bytes"] = flow.metadata.get("berth_bytes", 0) + len(chunk)
            return chunk

        return count

    def response(self, flow: Any) -> None:
        if flow.request.method == "CONNECT":
            return
        if flow.metadata.get("berth_denied"):
            return
        host = flow.metadata.get("berth_host", flow.request.pretty_host)
        self._log(host, flow.request.port, flow.request.method, True, flow.metadata)

    def error(self, flow: Any) -> None:
        if flow.request.method == "CONNECT" or flow.metadata.get("berth_denied"):
            return
        host = flow.metadata.get("berth_host", flow.request.pretty_host)
        reason = str(flow.error.msg) if flow.error else "failed"
        self._log(host, flow.request.port, flow.request.method, True, flow.metadata, reason)

    # -- HTTPS: CONNECT, then a tunnel -----------------------------------------------------

    async def http_connect(self, flow: Any) -> None:
        if self._relay_refused(flow):
            return
        host, port = flow.request.host, flow.request.port
        address, reason = await self.decide(host, port)
        if address is None:
            self._deny(flow, host, port, reason)
            return
        flow.request.data.host = address
        self._tunnels[flow.client_conn.id] = {
            "host": host, "port": port, "address": address, "berth_bytes": 0,
            "decrypt": bool(self._secrets_for(host, port)),
        }  # fmt: skip

    def next_layer(self, nextlayer: Any) -> None:
        client = nextlayer.context.client.id
        tunnel = self._tunnels.pop(client, None)
        if tunnel is None:
            return
        if tunnel["decrypt"]:
            # A secret's host: mitmproxy's own choice (TLS with this installation's CA,
            # then HTTP) stands, and each request inside comes to requestheaders.
            self._intercepted[client] = tunnel
            return
        # Passed through as it is: the agent's TLS goes end to end, never decrypted
        # (mitmproxy's own next-layer addon then leaves the choice made).
        self._passing[client] = tunnel
        done = functools.partial(self._tunnel_done, client)
        nextlayer.layer = _relay().layer_for(nextlayer.context, tunnel, done)

    def _tunnel_done(self, client: str, reason: str) -> None:
        tunnel = self._passing.pop(client, None)
        if tunnel is not None:
            self._log(tunnel["host"], tunnel["port"], "CONNECT", True, tunnel, reason)

    def client_disconnected(self, client: Any) -> None:
        self._intercepted.pop(client.id, None)  # its requests were logged one by one
        self._tunnel_done(client.id, "")  # cut before both sides had closed
        tunnel = self._tunnels.pop(client.id, None)  # the server never answered
        if tunnel is not None:
            self._log(tunnel["host"], tunnel["port"], "CONNECT", True, tunnel, "no tunnel")

    # -- both ------------------------------------------------------------------------------

    def _deny(self, flow: Any, host: str, port: int, reason: str) -> None:
        from mitmproxy import http

        flow.metadata["berth_denied"] = True
        flow.response = http.Response.make(
            403,
            denial_body(host, port, reason),
            {"Content-Type": "text/plain; charset=utf-8", "X-Berth-Denied": "1"},
        )
        self._log(host, port, flow.request.method, False, {}, reason)

    def _log(
        self,
        host: str,
        port: int,
        method: str,
        allowed: bool,
        counts: dict[str, Any],
        reason: str = "",
    ) -> None:
        record = {
            "time": time.time(),
            "host": host,
            "port": port,
            "method": method,
            "allowed": allowed,
            "bytes": int(counts.get("berth_bytes", 0)),
            "reason": reason,
        }
        if self._log_file is None:
            self._log_file = open(LOG_FILE, "a", encoding="utf-8")  # noqa: SIM115
        self._log_file.write(json.dumps(record) + "\n")
        self._log_file.flush()  # read from outside at any time


def _relay() -> Any:
    """tunnel_relay.py, beside this file in the proxy's container (/berth, on sys.path)."""
    import tunnel_relay  # type: ignore[import-not-found]

    return tunnel_relay


addons = [Door()]
