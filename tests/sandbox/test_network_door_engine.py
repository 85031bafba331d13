"""The network door and the Docker engine: the engine's own ports are out of the agent's
reach, and the door works the same on an engine reached over TCP.

The engine's host is stood in for by listeners of the test on the default bridge's gateway
(an address of the host, where a TCP engine would listen) on 2375 and 2376, Docker's
ports. A name on the allow-list that resolves there (an entry in the proxy's /etc/hosts,
as a DNS answer would) gets a 403, while the proxy's own container does reach it: the
refusal is the proxy's, not a wall of the test machine.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from collections.abc import Iterator

import docker
import pytest
from pydantic import SecretStr

from sandbox import DockerWorkspace, NetworkPolicy, Secret
from sandbox.network_door import proxy
from tests.sandbox.conftest import docker_host
from tests.support.internet import Internet, auth_hash, curl, fake_internet
from tests.support.workspaces import new_conversation_id, workspace_factory

ENGINE_PORTS = (2375, 2376)


@pytest.fixture(scope="module")
def internet(docker_client, curl_image) -> Iterator[Internet]:
    with fake_internet(docker_client) as made:
        yield made


@contextlib.contextmanager
def _listening(address: str, port: int) -> Iterator[None]:
    """Something answering on address:port (ours, or already there: either way it listens)."""
    try:
        server = socket.create_server((address, port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        yield
        return
    closed = threading.Event()

    def serve() -> None:
        while not closed.is_set():
            with contextlib.suppress(OSError):
                conn, _ = server.accept()
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nengine")
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield
    finally:
        closed.set()
        server.close()


@pytest.fixture(scope="module")
def engine_host(docker_client) -> Iterator[str]:
    """The default bridge's gateway (the engine's host), listening on Docker's ports."""
    gateway = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"]
    with contextlib.ExitStack() as stack:
        for port in ENGINE_PORTS:
            stack.enter_context(_listening(gateway, port))
        yield gateway


def _proxy_resolves(ws: DockerWorkspace, names: dict[str, str]) -> None:
    """Names the proxy resolves to these addresses, as a DNS server of the world might."""
    assert ws.conversation_id is not None
    found = proxy.find(ws.client, ws.conversation_id)
    assert found is not None
    lines = "".join(f"{address} {name}\n" for name, address in names.items())
    done = found.exec_run(["sh", "-c", f"printf '{lines}' >> /etc/hosts"])
    assert done.exit_code == 0, done.output


def _reaches(container, address: str, port: int) -> bool:
    probe = f"import socket; socket.create_connection(('{address}', {port}), 5).close()"
    return container.exec_run(["python3", "-c", probe]).exit_code == 0


def test_a_name_on_the_list_never_reaches_the_engines_ports(
    curl_image: str, internet: Internet, engine_host: str
) -> None:
    with workspace_factory(curl_image, prefix="door-engine") as make:
        ws = make(network=NetworkPolicy(allow=["*.example.test", internet.address]))
        ws.start()
        internet.join(ws)
        conversation = ws.container.attrs["NetworkSettings"]["Networks"]
        door_gateway = next(iter(conversation.values()))["Gateway"]
        _proxy_resolves(ws, {"engine.example.test": engine_host, "local.example.test": "127.0.0.1"})
        the_proxy = proxy.find(ws.client, ws.conversation_id or "")
        assert the_proxy is not None
        # The proxy's container does reach the engine's host: only its policy stops it.
        assert _reaches(the_proxy, engine_host, ENGINE_PORTS[0])
        assert "code=200" in curl(ws, "http://api.example.test:8000/")  # the list works

        for port in ENGINE_PORTS:
            for name in ("engine.example.test", "local.example.test"):
                plain = curl(ws, f"http://{name}:{port}/version")
                assert "code=403" in plain and "private or local address" in plain, plain
                assert "engine" not in plain.split("Berth's")[0]  # nothing of the listener
                tunnel = curl(ws, "--proxytunnel", f"http://{name}:{port}/version")
                assert "connect=403" in tunnel and "code=200" not in tunnel
            # The agent's own container, around the proxy: no route to the host at all.
            for address in (engine_host, door_gateway):
                direct = ws.execute(
                    f"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/{port} && echo OPEN' "
                    "2>&1 || echo CLOSED",
                    30,
                )
                assert "CLOSED" in direct.output and "OPEN" not in direct.output
        denied = [r for r in ws.network_log() if not r.allowed]
        assert {(r.host, r.port) for r in denied} >= {
            ("engine.example.test", 2375),
            ("engine.example.test", 2376),
        }


def test_the_door_works_through_an_engine_reached_over_tcp(
    curl_image: str, internet: Internet, tcp_engine: str, docker_client: docker.DockerClient
) -> None:
    secret = Secret(name="API_TOKEN", value=SecretStr("remote-value-1"), hosts=["api.example.test"])
    with docker_host(tcp_engine):
        ws = DockerWorkspace(
            curl_image,
            conversation_id=new_conversation_id("door-tcp"),
            network=NetworkPolicy(allow=["api.example.test:8000", internet.address]),
            secrets=[secret],
        )
        ws.start()  # its client made from DOCKER_HOST, as a user's would be
    try:
        assert str(ws.client.api.base_url).startswith("http://127.0.0.1:")  # over TCP
        internet.join(ws)
        allowed = curl(
            ws, "-H", '"Authorization: Bearer $API_TOKEN"', "http://api.example.test:8000/"
        )
        assert "code=200" in allowed and auth_hash("Bearer remote-value-1") in allowed
        denied = curl(ws, "http://www.example.test:8000/")
        assert "code=403" in denied and "www.example.test" in denied

        ws.set_network_policy(
            NetworkPolicy(allow=["api.example.test:8000", "www.example.test", internet.address])
        )
        assert "code=200" in curl(ws, "http://www.example.test:8000/")
        log = [(r.host, r.method, r.allowed) for r in ws.network_log()]
        assert log == [
            ("api.example.test", "GET", True),
            ("www.example.test", "GET", False),
            ("www.example.test", "GET", True),
        ]
    finally:
        ws.remove(volume=True)
    assert proxy.find(docker_client, ws.conversation_id or "") is None  # removed with it
