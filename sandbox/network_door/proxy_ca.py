"""This installation's certificate authority for the proxies: made once, trusted by the
agents' containers, used only for the hosts of a conversation's secrets.

The proxy decrypts HTTPS to a secret's host to put the value into its headers, so it must
show the agent a certificate the agent trusts: one signed by this CA. The key stays in the
user's data folder (mode 0600) and in the proxies' configuration folder; the agent's
container gets the certificate alone, in its trust store and in the variables that
Python's, Node's, git's and curl's clients read.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import tempfile
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container

from sandbox import installation
from sandbox.errors import SandboxError

KEY_FILE = "proxy-ca.pem"  # key and certificate, as mitmproxy's confdir wants them
CERT_FILE = "proxy-ca-cert.pem"
AGENT_CERT = "/usr/local/share/ca-certificates/berth-proxy-ca.crt"
AGENT_BUNDLE = "/usr/local/share/berth/ca-bundle.pem"
# Each client's own setting, pointed at a bundle of the system's CAs plus this one.
BUNDLE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                    "NODE_EXTRA_CA_CERTS", "GIT_SSL_CAINFO", "PIP_CERT")  # fmt: skip
# Run as root in the agent's container: the system store where the image has one, and a
# bundle that holds the CA either way (images without ca-certificates too).
_INSTALL = f"""
[ -f {AGENT_BUNDLE} ] && grep -qxF "$1" {AGENT_BUNDLE} && exit 0  # there since an earlier start
command -v update-ca-certificates >/dev/null 2>&1 && update-ca-certificates >/dev/null 2>&1
mkdir -p {os.path.dirname(AGENT_BUNDLE)}
{{ cat /etc/ssl/certs/ca-certificates.crt 2>/dev/null; cat {AGENT_CERT}; }} > {AGENT_BUNDLE}.new
chmod 644 {AGENT_BUNDLE}.new && mv -f {AGENT_BUNDLE}.new {AGENT_BUNDLE}
"""
_YEARS = 10


def ca_dir() -> Path:
    return installation.data_dir() / "proxy-ca"


@functools.cache
def load_or_create(directory: Path | None = None) -> tuple[bytes, bytes]:
    """(key and certificate PEM, certificate PEM), made on first use. An unreadable or
    expired one is moved aside (never deleted) and a new one made."""
    folder = directory or ca_dir()
    key_path = folder / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        both = key_path.read_bytes()
        cert = _certificate(both)
        if cert is not None:
            return both, cert
        stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
        key_path.rename(key_path.with_name(f"{KEY_FILE}.unreadable-{stamp}"))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    both, cert = _make()
    if not _write(key_path, both, 0o600, exclusive=True):  # another process made one first
        return load_or_create.__wrapped__(folder)
    _write(folder / CERT_FILE, cert, 0o644)  # for the user, to trust it elsewhere
    return both, cert


def _certificate(both: bytes) -> bytes | None:
    """The certificate in a key-and-certificate file, if both load and it has not expired."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    start = both.find(b"-----BEGIN CERTIFICATE-----")
    if start <= 0:
        return None
    try:
        load_pem_private_key(both[:start], None)
        made = x509.load_pem_x509_certificate(both[start:])
    except ValueError:
        return None
    if made.not_valid_after_utc <= datetime.datetime.now(datetime.UTC):
        return None
    return both[start:]


def _make() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    # RSA, as mitmproxy's own CA: it signs each host's certificate with this key.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "Berth proxy CA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Berth"),
    ])  # fmt: skip
    now = datetime.datetime.now(datetime.UTC)
    usage = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * _YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return key_pem + cert_pem, cert_pem


def _write(path: Path, data: bytes, mode: int, *, exclusive: bool = False) -> bool:
    """Written whole (a temporary file, then renamed or linked); False when ``exclusive``
    and the file exists already."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # before the first byte: the key is never readable by others
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if not exclusive:
            os.replace(temp, path)
            return True
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def environment() -> dict[str, str]:
    """The agent's variables that point its clients at the bundle with this CA."""
    return dict.fromkeys(BUNDLE_VARIABLES, AGENT_BUNDLE)


def trust_in(container: Container, cert: bytes) -> None:
    """The certificate (never the key) into the agent's trust store, as root."""
    from sandbox.network_door.tar_files import tar_files

    container.put_archive("/", tar_files({AGENT_CERT.lstrip("/"): cert}))
    try:
        line = cert.decode().splitlines()[-2]  # a line of the certificate's own
        done = container.exec_run(["bash", "-c", _INSTALL, "berth-trust", line], user="0:0")
    except docker.errors.APIError as exc:
        raise SandboxError(f"Could not add Berth's proxy CA to the container: {exc}") from exc
    if done.exit_code != 0:
        output = done.output if isinstance(done.output, bytes) else b""
        said = output.decode(errors="replace").strip()
        raise SandboxError(f"Could not add Berth's proxy CA to the container: {said}")
