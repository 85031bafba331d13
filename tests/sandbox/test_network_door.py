"""The network door: an allow-list conversation reaches only what its proxy lets through.

A server container on a network of the test's own stands in for the internet (HTTP on
8000 and 8001, HTTPS on 8443, a UDP echo on 5353, under the names api.example.test,
www.example.test and other.test); the conversation's proxy joins that network as it would
reach the world. The agent's container (curl, bash) is on the proxy's internal network
alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import docker
import pytest
from pydantic import ValidationError

from sandbox import DockerWorkspace, NetworkPolicy, NetworkRequest, SandboxError
from sandbox.network_door import proxy
from tests.agent.helpers import wait_until
from tests.support.internet import Internet, curl, fake_internet
from tests.support.workspaces import workspace_factory


@pytest.fixture(scope="module")
def internet(docker_client, curl_image) -> Iterator[Internet]:
    with fake_internet(docker_client) as made:
        yield made


@pytest.fixture
def door(curl_image, internet) -> Iterator[Callable[..., DockerWorkspace]]:
    """door(allow) -> a started allow-list workspace whose proxy reaches the test's server."""
    with workspace_factory(curl_image, prefix="door") as make:

        def started(allow: list[str]) -> DockerWorkspace:
            ws = make(network=NetworkPolicy(allow=allow))
            ws.start()
            internet.join(ws)
            return ws

        yield started


def test_allowed_host_by_name_and_denied_with_a_403_that_says_how(door, internet) -> None:
    ws = door(["api.example.test:8000", f"{internet.address}:8000"])

    allowed = curl(ws, "http://api.example.test:8000/")
    assert "hello from 8000 for api.example.test:8000" in allowed and "code=200" in allowed

    denied = curl(ws, "http://www.example.test:8000/")
    assert "code=403" in denied
    assert "www.example.test" in denied and "allow-list" in denied
    assert "NetworkPolicy(allow=" in denied

    # HTTPS's way: a CONNECT tunnel, allowed and denied alike.
    tunnel = curl(ws, "--proxytunnel", "http://api.example.test:8000/")
    assert "hello from 8000" in tunnel and "code=200" in tunnel
    refused = curl(ws, "--proxytunnel", "http://other.test:8000/")
    assert "hello" not in refused and "connect=403" in refused


def test_https_goes_end_to_end_through_the_tunnel(door, internet) -> None:
    ws = door(["api.example.test:8443", f"{internet.address}:8443"])
    # -k: the test's own certificate. The proxy never decrypts: the agent's TLS meets the
    # server's certificate itself.
    answer = curl(ws, "-k", "-v", "https://api.example.test:8443/", "2>&1")
    assert "hello from 8443 for api.example.test:8443" in answer and "code=200" in answer
    assert "CN=api.example.test" in answer  # the server's certificate, not a proxy's
    assert "connect=403" in curl(ws, "-k", "https://www.example.test:8443/")


def test_wildcard_and_port_specific_entries(door, internet) -> None:
    ws = door(["*.example.test:8000", f"{internet.address}:8000", f"{internet.address}:8001"])

    assert "code=200" in curl(ws, "http://api.example.test:8000/")
    assert "code=200" in curl(ws, "http://www.example.test:8000/")
    assert "code=403" in curl(ws, "http://other.test:8000/")  # not under the suffix
    assert "code=403" in curl(ws, "http://api.example.test:8001/")  # another port
    # The address itself is on the list with both ports: by address it is reached.
    assert "code=200" in curl(ws, f"http://{internet.address}:8001/")


def test_a_name_on_the_list_never_leads_to_a_private_address(door, internet) -> None:
    ws = door(["*.example.test"])  # the name is allowed; its address is not
    answer = curl(ws, "http://api.example.test:8000/")
    assert "code=403" in answer and "private" in answer
    assert "connect=403" in curl(ws, "--proxytunnel", "http://api.example.test:8000/")
    assert "code=403" in curl(ws, "http://169.254.169.254/")  # the metadata service


def test_nothing_goes_around_the_proxy(door, internet) -> None:
    ws = door(["*.example.test", f"{internet.address}:8000"])
    assert "code=200" in curl(ws, "http://api.example.test:8000/")  # the proxy's way works

    direct = curl(ws, "--noproxy", "'*'", f"http://{internet.address}:8000/")
    assert "code=000" in direct and "rc=0" not in direct
    tcp = ws.execute(
        f"timeout 5 bash -c 'exec 3<>/dev/tcp/{internet.address}/8000 && echo OPEN' "
        "2>&1 || echo CLOSED",
        30,
    )
    assert "CLOSED" in tcp.output and "OPEN" not in tcp.output
    udp = ws.execute(
        f"timeout 5 bash -c 'exec 3<>/dev/udp/{internet.address}/5353; printf ping >&3; "
        "head -c 9 <&3' 2>&1; echo", 30
    )  # fmt: skip
    assert "echo:ping" not in udp.output
    # The echo does answer on the proxy's side of the wall.
    assert ws.conversation_id is not None
    beside = proxy.find(ws.client, ws.conversation_id)
    assert beside is not None
    probe = (
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5); "
        f"s.sendto(b'ping', ('{internet.address}', 5353)); print(s.recv(64))"
    )
    assert b"echo:ping" in beside.exec_run(["python3", "-c", probe]).output
    # No DNS: not the test's names, not the engine's resolver for the world.
    dns = ws.execute("getent hosts api.example.test deb.debian.org; echo rc=$?", 30)
    assert "rc=0" not in dns.output


def test_two_allow_list_conversations_cannot_reach_each_other(
    door: Callable[..., DockerWorkspace], internet: Internet
) -> None:
    a = door([f"{internet.address}:8000"])
    a_entry = next(iter(a.container.attrs["NetworkSettings"]["Networks"].values()))
    # B's list even names A's address: the proxy cannot reach A's internal network.
    b = door([f"{a_entry['IPAddress']}:8000", f"{internet.address}:8000"])
    assert a_entry["IPAddress"]
    answer = curl(b, f"http://{a_entry['IPAddress']}:8000/")
    assert "code=200" not in answer
    tcp = b.execute(
        f"timeout 5 bash -c 'exec 3<>/dev/tcp/{a_entry['IPAddress']}/3128 && echo OPEN' "
        "2>&1 || echo CLOSED",
        30,
    )
    assert "CLOSED" in tcp.output


def test_policy_kept_on_revival_of_the_container(
    door: Callable[..., DockerWorkspace], internet: Internet, docker_client: docker.DockerClient
) -> None:
    ws = door([f"{internet.address}:8000"])
    assert ws.conversation_id is not None
    docker_client.containers.get(ws.container.id).remove(force=True)
    revived = DockerWorkspace(ws.image, conversation_id=ws.conversation_id, network=ws.network)
    try:
        revived.start()
        assert "code=200" in curl(revived, f"http://{internet.address}:8000/")
        assert "code=403" in curl(revived, "http://other.test:8000/")
    finally:
        revived.remove(volume=False)


def test_the_log_lists_every_request_and_a_new_policy_holds_at_once(
    door: Callable[..., DockerWorkspace], internet: Internet
) -> None:
    ws = door([f"{internet.address}:8000"])
    assert "code=403" in curl(ws, "http://api.example.test:8000/")

    ws.set_network_policy(NetworkPolicy(allow=["api.example.test", f"{internet.address}:8000"]))
    assert "code=200" in curl(ws, "http://api.example.test:8000/")
    assert "connect=200" in curl(ws, "--proxytunnel", "http://api.example.test:8000/")

    def logged() -> list[NetworkRequest]:
        return ws.network_log()

    wait_until(lambda: len(logged()) == 3, what="the tunnel's record as it closes")
    denied, plain, tunnel = logged()
    assert (denied.host, denied.port, denied.method, denied.allowed) == (
        "api.example.test",
        8000,
        "GET",
        False,
    )
    assert "allow-list" in denied.reason
    assert (plain.host, plain.method, plain.allowed) == ("api.example.test", "GET", True)
    assert (tunnel.host, tunnel.method, tunnel.allowed) == ("api.example.test", "CONNECT", True)
    body = len("hello from 8000 for api.example.test:8000")
    assert plain.bytes >= body and tunnel.bytes > body  # the tunnel counts headers too
    assert denied.time <= plain.time <= tunnel.time
    # Reopened with the new list, the proxy still has it (the spec saves ws.network).
    assert ws.network == NetworkPolicy(allow=["api.example.test", f"{internet.address}:8000"])


def test_a_bad_policy_is_refused_plainly(curl_image: str) -> None:
    with pytest.raises(ValidationError, match="looks like a URL"):
        NetworkPolicy(allow=["http://pypi.org"])
    ws = DockerWorkspace(curl_image, network=NetworkPolicy(allow=[]))
    with pytest.raises(SandboxError, match="takes a NetworkPolicy"):
        ws.set_network_policy(["pypi.org"])  # type: ignore[arg-type]
    assert ws.network_log() == []  # never started: nothing seen


def test_a_body_to_a_denied_host_never_leaves_the_proxy(door, internet) -> None:
    # A request with a body is streamed: its server connection is made on its headers,
    # so the check must be made there too, not when the body has been read.
    ws = door(["api.example.test:8000", f"{internet.address}:8000"])
    marker = f"marker-{uuid.uuid4().hex[:8]}"
    denied = curl(ws, "-X", "POST", "--data-binary", marker, "http://other.test:8000/")
    assert "code=403" in denied
    sent = curl(ws, "-X", "POST", "--data-binary", f"{marker}-ok", "http://api.example.test:8000/")
    assert "code=200" in sent
    seen = curl(ws, "http://api.example.test:8000/seen").split("seen=")[1].splitlines()[0]
    assert f"{marker}-ok" in seen.split(",") and marker not in seen.split(",")
