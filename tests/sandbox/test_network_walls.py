"""Walls between conversations on the network, and between a conversation and the host.

A's agent serves files (python3 -m http.server: A runs the checkpoint helper image, which
has python3); B tries to reach it at A's address with bash's /dev/tcp. A server of the host
on B's network's gateway address must be refused too.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator

import docker
import pytest

from sandbox import DockerWorkspace, reap_orphans
from tests.agent.helpers import wait_until
from tests.support.workspaces import workspace_factory

PORT = 8765


def _reach(ws: DockerWorkspace, address: str, port: int) -> str:
    """What a connection from ``ws`` to address:port gives: the first line it reads, or
    REFUSED."""
    probe = (
        f"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/{port} && "
        f'printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3 && head -n 1 <&3\' 2>/dev/null || echo REFUSED'
    )
    return ws.execute(probe, timeout=30).output.strip()


def _networks(ws: DockerWorkspace) -> dict[str, dict]:
    ws.container.reload()
    return ws.container.attrs["NetworkSettings"]["Networks"]


def _started(make_ws) -> tuple[DockerWorkspace, str, dict]:
    """A started workspace, the name of its one network and its entry there."""
    ws = make_ws()
    ws.start()
    ((name, entry),) = _networks(ws).items()
    return ws, name, entry


@pytest.fixture
def two(sandbox_image: str) -> Iterator[tuple[DockerWorkspace, DockerWorkspace]]:
    with (
        workspace_factory(os.environ["BERTH_CHECKPOINT_IMAGE"], prefix="net-a") as make_a,
        workspace_factory(sandbox_image, prefix="net-b") as make_b,
    ):
        a, b = make_a(), make_b()
        a.start()
        b.start()
        yield a, b


def test_two_conversations_cannot_reach_each_other(two, docker_client) -> None:
    a, b = two
    a.execute(f"cd /tmp && (python3 -m http.server {PORT} >/dev/null 2>&1 &)", timeout=30)
    wait_until(lambda: "200" in _reach(a, "127.0.0.1", PORT), what="A's server to answer")
    (a_net, a_entry), (b_net, _) = _networks(a).popitem(), _networks(b).popitem()

    assert a_net != b_net  # each on a network of its own
    assert _reach(b, a_entry["IPAddress"], PORT) == "REFUSED"
    assert "200" in _reach(a, a_entry["IPAddress"], PORT)  # A still reaches its own


def test_the_hosts_services_on_the_gateway_are_refused(make_ws) -> None:
    ws, _, entry = _started(make_ws)
    server = socket.create_server((entry["Gateway"], 0))
    port = server.getsockname()[1]
    answering = threading.Thread(target=_answer, args=(server,), daemon=True)
    answering.start()
    try:
        with socket.create_connection((entry["Gateway"], port), timeout=5) as own:
            assert own.recv(64).startswith(b"HTTP/1.0 200")  # it does answer, from the host
        assert _reach(ws, entry["Gateway"], port) == "REFUSED"
    finally:
        server.close()


def test_the_network_goes_with_the_container_and_comes_back_on_reopen(
    make_ws, docker_client: docker.DockerClient
) -> None:
    ws, name, _ = _started(make_ws)
    ws.close()
    docker_client.networks.get(name)  # a stopped conversation keeps its network
    ws.start()  # restarted: connected again and fenced again
    ((again, entry),) = _networks(ws).items()
    assert again == name
    assert _reach(ws, entry["Gateway"], 9) == "REFUSED"

    ws.remove(volume=True)
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(name)


def test_orphaned_networks_are_reaped(make_ws, docker_client: docker.DockerClient) -> None:
    ws, name, _ = _started(make_ws)
    ws.container.remove(force=True)  # gone outside Berth: its network is left over
    reap_orphans(docker_client)
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(name)


def _answer(server: socket.socket) -> None:
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with contextlib.suppress(OSError), conn:
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nhost\n")


def test_with_no_way_to_fence_the_host_off_the_sandbox_has_no_network(make_ws, monkeypatch):
    monkeypatch.setenv("BERTH_CHECKPOINT_IMAGE", "berth-test-no-such-image:none")
    notes: list[str] = []
    ws = make_ws(on_progress=notes.append)
    ws.start()

    assert _networks(ws) == {}  # cut off rather than open to the host
    assert any("runs without network" in note for note in notes)
    assert ws.execute("echo works", timeout=30).output == "works\n"


def test_a_container_on_the_shared_bridge_moves_to_its_own_network(
    make_ws, docker_client: docker.DockerClient
) -> None:
    ws, own, _ = _started(make_ws)
    ws.close()
    # As a container made before networks of their own was: on the engine's shared bridge.
    docker_client.api.disconnect_container_from_network(ws.container.id, own)
    docker_client.networks.get("bridge").connect(ws.container)

    ws.start()

    assert list(_networks(ws)) == [own]
