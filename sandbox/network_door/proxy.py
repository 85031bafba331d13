"""The conversation's proxy container: the one way out of an allow-list conversation.

The agent's container sits alone with the proxy on ``berth-door-<conversation>``, a Docker
network with ``internal: true`` (no route beyond it), so whatever ignores the proxy
settings reaches nothing. The proxy is also on the conversation's own bridge network, its
way out. It runs mitmdump with sandbox/network_door/addon.py; the policy and the request
log are files in the proxy container, written and read through the engine (so all of it
works on a remote engine).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network

from sandbox import labels, network
from sandbox.checkpoints import helper_image
from sandbox.errors import SandboxError
from sandbox.images.berth_image import Progress
from sandbox.network_door import proxy_ca
from sandbox.network_door.image import ensure_proxy_image, proxy_image
from sandbox.network_door.policy import NetworkPolicy, NetworkRequest
from sandbox.network_door.tar_files import tar_files

PROXY_OF = labels.PROXY_OF
ALIAS = "berth-proxy"
PORT = 3128
PROXY_URL = f"http://{ALIAS}:{PORT}"
_ADDON = Path(__file__).with_name("addon.py")
_RELAY = Path(__file__).with_name("tunnel_relay.py")
_DIR = "/berth"
_LOG = "/berth/log/requests.jsonl"
# A PEM file on this machine whose CAs the proxy trusts beside the public ones, when it
# checks the certificate of a secret's host: a test's own servers, a company's TLS proxy.
UPSTREAM_CA_ENV = "BERTH_PROXY_UPSTREAM_CA"
NO_SECRETS = b'{"secrets": []}'
# mitmproxy with the addons a proxy of ours needs, and ours (mitmdump would load some 35
# more, each handed every event of every connection: a new connection cost twice the CPU).
# Through python3 -c: the wheels' console scripts are not installed, PYTHONPATH finds them.
# Ours before next_layer's: a tunnel passed through is decided before mitmproxy would parse
# its TLS ClientHello for a choice that ours replaces.
_MAIN = f"""
import asyncio, signal, sys
sys.path.insert(0, "{_DIR}")
from mitmproxy import options
from mitmproxy.addons import core, disable_h2c, errorcheck, next_layer, proxyserver, tlsconfig
from mitmproxy.master import Master
import addon

async def main():
    opts = options.Options()
    master = Master(opts, with_termlog=True)
    master.addons.add(
        core.Core(), proxyserver.Proxyserver(), *addon.addons, next_layer.NextLayer(),
        tlsconfig.TlsConfig(), disable_h2c.DisableH2C(), errorcheck.ErrorCheck(),
    )
    opts.update(
        mode=["regular"], listen_port={PORT}, confdir="{_DIR}/conf",
        termlog_verbosity="warn", stream_large_bodies="64k",
    )
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):  # PID 1: no default way to stop
        loop.add_signal_handler(number, master.shutdown)
    await master.run()

asyncio.run(main())
"""
_COMMAND = ["python3", "-c", _MAIN]
_READY_S = 30.0


def door_name(conversation_id: str) -> str:
    return f"berth-door-{conversation_id}"


def proxy_name(conversation_id: str) -> str:
    return f"berth-proxy-{conversation_id}"


def environment() -> dict[str, str]:
    """The agent's settings that send every client there: the usual variables (both
    cases), and pip's, npm's and git's own."""
    proxied = {
        "HTTP_PROXY": PROXY_URL,
        "HTTPS_PROXY": PROXY_URL,
        "NO_PROXY": "localhost,127.0.0.1,::1",
    }
    settings = {**proxied, **{name.lower(): value for name, value in proxied.items()}}
    settings.update(
        PIP_PROXY=PROXY_URL,
        npm_config_proxy=PROXY_URL,
        npm_config_https_proxy=PROXY_URL,
        GIT_CONFIG_COUNT="1",
        GIT_CONFIG_KEY_0="http.proxy",
        GIT_CONFIG_VALUE_0=PROXY_URL,
    )
    return settings


def door_network(client: docker.DockerClient, conversation_id: str) -> Network:
    return network.ensure_network(client, conversation_id, door_name(conversation_id))


def find(client: docker.DockerClient, conversation_id: str) -> Container | None:
    found = client.containers.list(
        all=True, ignore_removed=True, filters={"label": f"{PROXY_OF}={conversation_id}"}
    )
    found = [c for c in found if c.status not in ("removing", "dead")]
    return found[0] if found else None


def ensure_running(
    client: docker.DockerClient,
    conversation_id: str,
    policy: NetworkPolicy,
    progress: Progress | None = None,
    secrets: bytes = NO_SECRETS,
) -> Container:
    """The proxy, made or started if needed, on both its networks, with ``policy`` and
    ``secrets`` (a started proxy reads them as it starts; a running one at its next request:
    either way the file is deleted then)."""
    door = door_network(client, conversation_id)
    outside = network.ensure_network(client, conversation_id)
    proxy = find(client, conversation_id)
    if proxy is None:
        proxy = _create(client, conversation_id, door, outside, progress)
    elif proxy.status != "running":
        _rejoin(client, proxy, door, outside)
    write_policy(proxy, policy)
    write_secrets(proxy, secrets)
    if proxy.status != "running":
        _configure(proxy)
        with contextlib.suppress(docker.errors.APIError):
            proxy.unpause()  # paused by hand: a start would fail
        if proxy.status != "paused":
            proxy.start()
        _wait_listening(proxy)
    return proxy


def _create(
    client: docker.DockerClient,
    conversation_id: str,
    door: Network,
    outside: Network,
    progress: Progress | None,
) -> Container:
    base = helper_image()
    image = ensure_proxy_image(client, proxy_image(client, base), base, progress)
    proxy = client.containers.create(
        image,
        _COMMAND,
        name=proxy_name(conversation_id),
        labels={**labels.ours(), PROXY_OF: conversation_id},
        network=str(outside.name),
        cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"],
        mem_limit="512m",
        pids_limit=256,
        environment={"HOME": f"{_DIR}/home"},
    )
    door.connect(proxy, aliases=[ALIAS])
    proxy.put_archive("/", tar_files({"berth/addon.py": _ADDON.read_bytes(),
                                      "berth/tunnel_relay.py": _RELAY.read_bytes(),
                                      "berth/log/": b"", "berth/conf/": b"",
                                      "berth/home/": b""}))  # fmt: skip
    proxy.reload()
    return proxy


def _rejoin(client: docker.DockerClient, proxy: Container, door: Network, outside: Network) -> None:
    """A reaped network comes back with a new id: the stopped proxy joins it again."""
    joined = proxy.attrs.get("NetworkSettings", {}).get("Networks") or {}
    for net, aliases in ((outside, None), (door, [ALIAS])):
        entry = joined.get(str(net.name))
        if entry is not None and entry.get("NetworkID") in (net.id, "", None):
            continue
        if entry is not None:
            with contextlib.suppress(docker.errors.APIError):
                client.api.disconnect_container_from_network(
                    str(proxy.id), str(net.name), force=True
                )
        net.connect(proxy, aliases=aliases)
    proxy.reload()


def write_policy(proxy: Container, policy: NetworkPolicy) -> None:
    """Takes effect at the proxy's next request (it re-reads the file when it changes)."""
    body = json.dumps({"allow": policy.allow}).encode()
    proxy.put_archive("/", tar_files({"berth/policy.json": body}))


def write_secrets(proxy: Container, payload: bytes) -> None:
    """The secrets' values, for the proxy alone: it reads the file at its next request and
    deletes it, keeping them in memory only (never its environment or command line)."""
    proxy.put_archive("/", tar_files({"berth/secrets.json": payload}, mode=0o600))


def _configure(proxy: Container) -> None:
    """What mitmproxy reads as it starts: this installation's CA (the certificates it shows
    for a secret's host), and the extra CAs it trusts upstream ($BERTH_PROXY_UPSTREAM_CA)."""
    both, _cert = proxy_ca.load_or_create()
    extra, named = b"", os.environ.get(UPSTREAM_CA_ENV)
    if named:
        try:
            extra = Path(named).read_bytes()
        except OSError as exc:
            raise SandboxError(f"${UPSTREAM_CA_ENV} names {named!r}, unreadable: {exc}") from exc
    files = {"berth/conf/mitmproxy-ca.pem": both, "berth/conf/upstream-extra.pem": extra}
    proxy.put_archive("/", tar_files(files, mode=0o600))


def read_log(proxy: Container) -> list[NetworkRequest]:
    try:
        stream, _ = proxy.get_archive(_LOG)
    except docker.errors.NotFound:
        return []
    raw = io.BytesIO(b"".join(stream))
    with tarfile.open(fileobj=raw) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        text = member.read().decode(errors="replace") if member is not None else ""
    requests: list[NetworkRequest] = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError, TypeError, KeyError):
            record = json.loads(line)
            record["time"] = datetime.fromtimestamp(float(record["time"]), tz=UTC)
            requests.append(NetworkRequest.model_validate(record))
    return requests


def stop(client: docker.DockerClient, conversation_id: str) -> None:
    proxy = find(client, conversation_id)
    if proxy is not None and proxy.status == "running":
        with contextlib.suppress(docker.errors.APIError):
            proxy.stop(timeout=2)


def remove(client: docker.DockerClient, conversation_id: str) -> None:
    """The proxy and its door network (the agent's container is gone first)."""
    proxy = find(client, conversation_id)
    if proxy is not None:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            proxy.remove(force=True)
    network.remove_network(client, conversation_id, door_name(conversation_id))


def _wait_listening(proxy: Container) -> None:
    """Until mitmdump listens: the agent's first request must not find it still loading."""
    probe = f"import socket; socket.create_connection(('127.0.0.1', {PORT}), 1).close()"
    deadline = time.monotonic() + _READY_S
    while time.monotonic() < deadline:
        result = proxy.exec_run(["python3", "-c", probe])
        if result.exit_code == 0:
            return
        proxy.reload()
        if proxy.status != "running":
            break
        time.sleep(0.2)
    logs = proxy.logs(tail=20).decode(errors="replace").strip()
    raise SandboxError(f"The network proxy of this conversation did not start: {logs}")
