"""A streamable-HTTP MCP server of an allow-list conversation is reached through that
conversation's proxy: the allow-list holds (a host not on it fails with the proxy's own
refusal, naming the host and how to allow it), the request shows in network_log(), and a
secret's placeholder in the server's headers reaches it as the secret's value.

The server listens on the engine's bridge gateway (never 127.0.0.1: the proxy refuses
loopback and private addresses unless the allow-list names the address itself), so the
proxy reaches it from its own bridge as it would a server on the internet."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from agent import Conversation
from agent.events import McpServersEvent, ObservationEvent
from agent.mcp import McpServerConfig, McpServerState, McpServerStatus
from agent.status import AgentStatus
from sandbox import DockerWorkspace, NetworkPolicy, Secret
from sandbox.network_door import proxy
from tests.agent.helpers import make_agent
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import http_server
from tests.support.workspaces import new_conversation_id


def _gateway(docker_client) -> str:
    return str(docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"])


@pytest.fixture(scope="module")
def server_url(docker_client, tmp_path_factory) -> Iterator[str]:
    with http_server(tmp_path_factory.mktemp("weather"), host=_gateway(docker_client)) as url:
        yield url


def _test_ca(folder: Path, address: str) -> tuple[Path, str, str]:
    """A CA of the test's own, and a certificate it signs for ``address``: (the CA's PEM
    file, the certificate's file, its key's file)."""
    now = datetime.datetime.now(datetime.UTC)
    pem = serialization.Encoding.PEM

    def made(subject: str, key, signer, ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, subject)])
        issuer = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Berth MCP test CA")])
        built = (
            x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
        )  # fmt: skip
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))])
            built = built.add_extension(san, False)
        return built.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = made("Berth MCP test CA", ca_key, ca_key, True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "cert.pem").write_bytes(made(address, key, ca_key, False).public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "ca.pem", str(folder / "cert.pem"), str(folder / "key.pem")


def _open(
    llm_server, tmp_path, image, url, network, replies, made, secrets=(), headers=None, more=None
):
    """A started conversation whose agent has the "weather" server (headers may name a
    secret as "{NAME}": its placeholder, as the agent's container has it)."""
    llm_server.script = replies_in_order(replies)
    workspace = DockerWorkspace(image, conversation_id=new_conversation_id("mcpx"),
                                network=network, secrets=list(secrets))  # fmt: skip
    workspace.start()
    given = dict(headers or {})
    for secret in secrets:
        placeholder = workspace.execute(f"printenv {secret.name}").output.strip()
        assert placeholder.startswith("berth-secret-")
        given = {k: v.replace("{" + secret.name + "}", placeholder) for k, v in given.items()}
    agent = make_agent(llm_server)
    agent.mcp_servers = {"weather": McpServerConfig(url=url, headers=given), **(more or {})}
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    made.append(conversation)
    return conversation


def _statuses(conversation: Conversation) -> dict[str, McpServerStatus]:
    (said,) = [e for e in conversation.state.events if isinstance(e, McpServersEvent)]
    return {status.name: status for status in said.servers}


def test_allowed_through_the_proxy_and_logged(
    llm_server, tmp_path, curl_image, open_conversations, server_url
):
    parts = urlsplit(server_url)
    policy = NetworkPolicy(allow=[f"{parts.hostname}:{parts.port}"])
    replies = [Reply.call("weather__forecast", city="Oslo"), Reply.say("Done.")]
    conversation = _open(
        llm_server, tmp_path, curl_image, server_url, policy, replies, open_conversations
    )
    conversation.send_message("Weather in Oslo?")
    assert conversation.run() == AgentStatus.FINISHED

    status = _statuses(conversation)["weather"]
    assert status.state == McpServerState.READY, status.error
    assert "weather__forecast" in llm_server.requests[0].tool_names
    (result,) = [e for e in conversation.state.events if isinstance(e, ObservationEvent)]
    assert result.content == "Sunny in Oslo, 21 degrees" and not result.is_error
    # The proxy saw the server's requests, as it sees the agent's.
    logged = conversation.workspace.network_log()
    ours = [r for r in logged if r.host == parts.hostname and r.port == parts.port]
    assert ours and all(r.allowed for r in ours)
    assert {"POST"} <= {r.method for r in ours}


def test_a_host_off_the_list_fails_with_the_proxys_reason(
    llm_server, tmp_path, curl_image, open_conversations, server_url
):
    host = urlsplit(server_url).hostname
    policy = NetworkPolicy(allow=["pypi.org"])
    replies = [Reply.say("Done without it.")]
    secure = {"secure": McpServerConfig(url=server_url.replace("http://", "https://"))}
    conversation = _open(
        llm_server, tmp_path, curl_image, server_url, policy, replies, open_conversations,
        more=secure,
    )  # fmt: skip
    conversation.send_message("Weather?")
    assert conversation.run() == AgentStatus.FINISHED

    status = _statuses(conversation)["weather"]
    assert status.state == McpServerState.FAILED
    assert f"blocked {host}" in status.error and "allow-list" in status.error
    assert "NetworkPolicy(allow=" in status.error
    # HTTPS: the CONNECT is refused; the client hears only "403", the proxy's log says why.
    secure = _statuses(conversation)["secure"]
    assert secure.state == McpServerState.FAILED
    assert f"blocked {host}" in secure.error and "allow-list" in secure.error
    assert not any(n.startswith("weather__") for n in llm_server.requests[-1].tool_names)
    denied = [r for r in conversation.workspace.network_log() if r.host == host]
    assert denied and not any(r.allowed for r in denied)


def _key_call(llm_server, tmp_path, image, url, value, made) -> tuple[Conversation, str]:
    """A conversation whose allow-list and secret WEATHER_KEY (``value``) name the server,
    whose Authorization header is "Bearer <the placeholder>", run through a `key` call:
    the conversation and what the server said of the header it got."""
    parts = urlsplit(url)
    entry = f"{parts.hostname}:{parts.port}"
    secret = Secret(name="WEATHER_KEY", value=SecretStr(value), hosts=[entry])
    replies = [Reply.call("weather__key"), Reply.say("Done.")]
    conversation = _open(
        llm_server, tmp_path, image, url, NetworkPolicy(allow=[entry]), replies, made,
        secrets=[secret], headers={"Authorization": "Bearer {WEATHER_KEY}"},
    )  # fmt: skip
    conversation.send_message("Key?")
    assert conversation.run() == AgentStatus.FINISHED
    status = _statuses(conversation)["weather"]
    assert status.state == McpServerState.READY, status.error
    (result,) = [e for e in conversation.state.events if isinstance(e, ObservationEvent)]
    return conversation, result.content


def _said_of(header: str) -> str:
    return "key-sha256=" + hashlib.sha256(header.encode()).hexdigest()


def test_a_secret_reaches_the_server_as_its_value(
    llm_server, tmp_path, curl_image, open_conversations, server_url
):
    conversation, said = _key_call(
        llm_server, tmp_path, curl_image, server_url, "real-value-42", open_conversations
    )
    assert said == _said_of("Bearer real-value-42")
    configured = conversation.agent.mcp_servers["weather"].headers["Authorization"]
    assert configured.startswith("Bearer berth-secret-") and "real-value-42" not in configured


def test_https_to_a_secrets_host_is_decrypted_under_the_installations_ca(
    llm_server, tmp_path, curl_image, open_conversations, docker_client, monkeypatch
):
    """The proxy shows its own certificate (this installation's CA) for a secret's host;
    the MCP client trusts it, and the secret reaches the HTTPS server as its value."""
    gateway = _gateway(docker_client)
    ca, cert, key = _test_ca(tmp_path, gateway)
    monkeypatch.setenv(proxy.UPSTREAM_CA_ENV, str(ca))  # the proxy trusts the test's server
    with http_server(tmp_path, host=gateway, tls=(cert, key)) as url:
        conversation, said = _key_call(
            llm_server, tmp_path, curl_image, url, "tls-value-7", open_conversations
        )
    assert said == _said_of("Bearer tls-value-7")
    port = urlsplit(url).port
    logged = [r for r in conversation.workspace.network_log() if r.port == port]
    assert logged and all(r.allowed for r in logged)
