"""A stand-in for the internet in the network door's tests: one server container on a
network of the test's own (never any outside address).

HTTP on 8000 and 8001, HTTPS on 8443 (a certificate signed by the server's own test CA),
a UDP echo on 5353, under the names api.example.test, www.example.test and other.test.
Each answer says the port and Host it got, and the SHA-256 of any Authorization header
(the header itself is never sent back: a secret's value must not reach the agent that
way); POST bodies are kept and listed at /seen; /bytes/<n> answers n random bytes (the
benchmarks). A conversation's proxy joins the network as it would reach the world.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
import time
import uuid
from collections.abc import Iterator

import docker

from sandbox import DockerWorkspace
from sandbox.network_door import proxy

NAMES = ["api.example.test", "www.example.test", "other.test"]
_SERVER = f"""
NAMES = {NAMES!r}
import hashlib, http.server, os, socket, socketserver, threading
SEEN = []
CHUNK = os.urandom(1 << 20)  # /bytes/<n>: n bytes that no layer can compress
class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # else headers and body wait 40 ms for a delayed ACK
    def answer(self, extra=""):
        body = f"hello from {{self.server.server_address[1]}} for {{self.headers['Host']}}"
        auth = self.headers.get("Authorization")
        if auth is not None:
            body += " auth-sha256=" + hashlib.sha256(auth.encode()).hexdigest()
        body = (body + extra).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if self.path.startswith("/bytes/"):
            return self.download(int(self.path[len("/bytes/"):]))
        self.answer(" seen=" + ",".join(SEEN) if self.path == "/seen" else "")
    def download(self, size):
        self.send_response(200); self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream"); self.end_headers()
        while size > 0:
            self.wfile.write(CHUNK[:size]); size -= len(CHUNK)
    def do_POST(self):
        SEEN.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        self.answer()
    def log_message(self, *args): pass
for port in (8000, 8001):
    server = socketserver.ThreadingTCPServer(("0.0.0.0", port), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
# HTTPS on 8443: a test CA made here (the proxy's image has cryptography) signs the
# server's certificate; the CA goes to /tmp/ca.pem for the test to hand the proxy.
import datetime, ssl
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
now = datetime.datetime.now(datetime.timezone.utc)
def made(subject, issuer, key, signer, ca):
    name = lambda cn: x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn)])
    built = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(hours=1))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True))
    if not ca:
        built = built.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in NAMES]), False)
    return built.sign(signer, hashes.SHA256())
ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
ca = made("Berth test CA", "Berth test CA", ca_key, ca_key, True)
cert = made("api.example.test", "Berth test CA", key, ca_key, False)
pem = serialization.Encoding.PEM
open("/tmp/cert.pem", "wb").write(cert.public_bytes(pem) + ca.public_bytes(pem))
open("/tmp/key.pem", "wb").write(key.private_bytes(pem,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); tls.load_cert_chain("/tmp/cert.pem", "/tmp/key.pem")
secure = socketserver.ThreadingTCPServer(("0.0.0.0", 8443), Echo)
secure.socket = tls.wrap_socket(secure.socket, server_side=True)
threading.Thread(target=secure.serve_forever, daemon=True).start()
open("/tmp/ca.pem.new", "wb").write(ca.public_bytes(pem))
import os; os.rename("/tmp/ca.pem.new", "/tmp/ca.pem")
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("0.0.0.0", 5353))
while True:
    data, peer = udp.recvfrom(512); udp.sendto(b"echo:" + data, peer)
"""


def auth_hash(header: str) -> str:
    """What the server answers for an Authorization header of this value."""
    return "auth-sha256=" + hashlib.sha256(header.encode()).hexdigest()


class Internet:
    def __init__(self, network: docker.models.networks.Network, address: str, ca: bytes) -> None:
        self.network = network
        self.address = address  # the server's (private) address
        self.ca = ca  # the PEM of the CA that signed its HTTPS certificate

    def join(self, ws: DockerWorkspace) -> None:
        """The conversation's proxy reaches this network as it would the world."""
        assert ws.conversation_id is not None
        found = proxy.find(ws.client, ws.conversation_id)
        assert found is not None
        if self.network.name not in found.attrs["NetworkSettings"]["Networks"]:
            self.network.connect(found)  # a proxy started again is still on it


@contextlib.contextmanager
def fake_internet(client: docker.DockerClient) -> Iterator[Internet]:
    tag = uuid.uuid4().hex[:8]
    network = client.networks.create(
        f"berth-test-internet-{tag}", driver="bridge", labels={"berth.test": "netdoor"}
    )
    server = client.containers.create(
        os.environ["BERTH_PROXY_IMAGE"],  # python3 with cryptography, for the certificates
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
        yield Internet(network, address, _read_ca(server))
    finally:
        server.remove(force=True)
        network.reload()
        for container in network.containers:
            with contextlib.suppress(Exception):
                network.disconnect(container, force=True)
        network.remove()


def _read_ca(server: docker.models.containers.Container) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        try:
            stream, _ = server.get_archive("/tmp/ca.pem")
        except docker.errors.NotFound:
            if time.monotonic() > deadline:
                raise AssertionError(server.logs().decode(errors="replace")) from None
            time.sleep(0.2)
            continue
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile(tar.getmembers()[0])
            assert member is not None
            return member.read()


def curl(ws: DockerWorkspace, *args: str) -> str:
    """The body, then "code=<HTTP status> connect=<the CONNECT's status> rc=<exit code>"."""
    line = " ".join(args)
    out = "\\ncode=%{http_code} connect=%{http_connect}"
    done = ws.execute(f"curl -s -m 10 -w '{out}' {line}; echo \" rc=$?\"", 60)
    return done.output.strip()
