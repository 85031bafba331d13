"""A streamable-HTTP MCP server of an allow-list conversation is reached through that
conversation's proxy: the allow-list holds (a host not on it fails with the proxy's own
refusal, naming the host and how to allow it), the request shows in network_log(), and a
secret's placeholder in the server's headers reaches it as the secret's value.

The server listens on the engine's bridge gateway (never 127.0.0.1: the proxy refuses
loopback and private addresses unless the allow-list names the address itself), so the
proxy reaches it from its own bridge as it would a server on the internet."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from agent import Conversation
from agent.events import McpServersEvent, ObservationEvent
from agent.mcp import McpServerConfig, McpServerState, McpServerStatus
from agent.status import AgentStatus
from sandbox import DockerWorkspace, NetworkPolicy, Secret
from tests.agent.helpers import make_agent
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import http_server
from tests.support.workspaces import new_conversation_id


@pytest.fixture(scope="module")
def server_url(docker_client, tmp_path_factory) -> Iterator[str]:
    bridge = docker_client.networks.get("bridge")
    gateway = bridge.attrs["IPAM"]["Config"][0]["Gateway"]
    with http_server(tmp_path_factory.mktemp("weather"), host=gateway) as url:
        yield url


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


def test_a_secret_reaches_the_server_as_its_value(
    llm_server, tmp_path, curl_image, open_conversations, server_url
):
    parts = urlsplit(server_url)
    entry = f"{parts.hostname}:{parts.port}"
    secret = Secret(name="WEATHER_KEY", value=SecretStr("real-value-42"), hosts=[entry])
    replies = [Reply.call("weather__key"), Reply.say("Done.")]
    conversation = _open(
        llm_server, tmp_path, curl_image, server_url, NetworkPolicy(allow=[entry]), replies,
        open_conversations, secrets=[secret], headers={"Authorization": "Bearer {WEATHER_KEY}"},
    )  # fmt: skip
    conversation.send_message("Key?")
    assert conversation.run() == AgentStatus.FINISHED

    (result,) = [e for e in conversation.state.events if isinstance(e, ObservationEvent)]
    wanted = hashlib.sha256(b"Bearer real-value-42").hexdigest()
    assert result.content == f"key-sha256={wanted}"
    configured = conversation.agent.mcp_servers["weather"].headers["Authorization"]
    assert configured.startswith("Bearer berth-secret-") and "real-value-42" not in configured
