"""The network door: an allow-list conversation reaches only what its proxy lets through.

A server container on a network of the test's own stands in for the internet (HTTP on
8000 and 8001, HTTPS on 8443, a UDP echo on 5353, under the names api.example.test,
www.example.test and other.test); the conversation's proxy joins that network as it would
reach the world. The agent's container (curl, bash) is on the proxy's internal network
alone.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest
from pydantic import ValidationError

from sandbox import DockerWorkspace, NetworkPolicy, NetworkRequest, SandboxError
from sandbox.network_door import proxy
from tests.agent.helpers import wait_until
from tests.support.workspaces import workspace_factory

NAMES = ["api.example.test", "www.example.test", "other.test"]
_SERVER = f"""
NAMES = {NAMES!r}
import http.server, socket, socketserver, threading
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello from {{self.server.server_address[1]}} for {{self.headers['Host']}}".encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
for port in (8000, 8001):
    server = socketserver.ThreadingTCPServer(("0.0.0.0", port), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
# HTTPS on 8443, with a certificate made here (the proxy's image has cryptography).
import datetime, ssl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "api.example.test")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1).not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in NAMES]), False)
        .sign(key, hashes.SHA256()))
open("/tmp/cert.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open("/tmp/key.pem", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); tls.load_cert_chain("/tmp/cert.pem", "/tmp/key.pem")
secure = socketserver.ThreadingTCPServer(("0.0.0.0", 8443), Echo)
secure.socket = tls.wrap_socket(secure.socket, server_side=True)
threading.Thread(target=secure.serve_forever, daemon=True).start()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("0.0.0.0", 5353))
while True:
    data, peer = udp.recvfrom(512); udp.sendto(b"echo:" + data, peer)
"""


class Internet:
    def __init__(self, network: docker.models.networks.Network, address: str) -> None:
        self.network = network
        self.address = address  # the server's (private) address

    def join(self, ws: DockerWorkspace) -> None:
        """The conversation's proxy reaches this network as it would the world."""
        assert ws.conversation_id is not None
        found = proxy.find(ws.client, ws.conversation_id)
        assert found is not None
        self.network.connect(found)


@pytest.fixture(scope="module")
def internet(docker_client, curl_image) -> Iterator[Internet]:
    tag = uuid.uuid4().hex[:8]
    network = docker_client.networks.create(
        f"berth-test-internet-{tag}", driver="bridge", labels={"berth.test": "netdoor"}
    )
    server = docker_client.containers.create(
        os.environ["BERTH_PROXY_IMAGE"],  # python3 with cryptography, for the certificate
        ["python3", "-c", _SERVER],
        name=f"berth-test-server-{tag}",
        labels={"berth.test": "netdoor"},
        network=network.name,
    )
    try:
        network.disconnect(server)
        network.connect(server, aliases=NAMES)
        server.start()
        server.reload()
        address = server.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        yield Internet(network, address)
    finally:
        server.remove(force=True)
        network.reload()
        for container in network.containers:
            with contextlib.suppress(Exception):
                network.disconnect(container, force=True)
        network.remove()


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


def curl(ws: DockerWorkspace, *args: str) -> str:
    """The body, then "code=<HTTP status> connect=<the CONNECT's status> rc=<exit code>"."""
    line = " ".join(args)
    out = "\\ncode=%{http_code} connect=%{http_connect}"
    done = ws.execute(f"curl -s -m 10 -w '{out}' {line}; echo \" rc=$?\"", 60)
    return done.output.strip()


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
