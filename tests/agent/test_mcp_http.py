"""A streamable-HTTP MCP server (the SDK's MCPServer on 127.0.0.1), reached from this
machine: its tools reach the model and a call returns its text; named in
/workspace/.mcp.json (which the agent can write), it may not reach this machine. (With an
allow-list it goes through the conversation's proxy: test_mcp_proxy.py.)"""

from __future__ import annotations

import json

from agent import Conversation
from agent.events import McpServersEvent, ObservationEvent
from agent.mcp import McpServerConfig, McpServerState, McpServerStatus
from agent.status import AgentStatus
from sandbox import DockerWorkspace
from tests.agent.helpers import make_agent
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import http_server
from tests.support.workspaces import new_conversation_id


def _run(llm_server, tmp_path, image, url, network, replies, made) -> dict[str, McpServerStatus]:
    """A conversation with the server (added to ``made``), run to its end; the server's
    statuses by name."""
    llm_server.script = replies_in_order(replies)
    agent = make_agent(llm_server)
    agent.mcp_servers = {"weather": McpServerConfig(url=url)}
    workspace = DockerWorkspace(image, conversation_id=new_conversation_id("mcp"),
                                network=network)  # fmt: skip
    workspace.start()
    # The same server named in .mcp.json, which the agent can write: it may not reach
    # this machine (the container itself is fenced from it).
    mcp_json = {"mcpServers": {"local": {"url": url}}}
    workspace.write_bytes("/workspace/.mcp.json", json.dumps(mcp_json).encode())
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    made.append(conversation)
    conversation.send_message("Weather in Oslo?")
    assert conversation.run() == AgentStatus.FINISHED
    (said,) = [e for e in conversation.state.events if isinstance(e, McpServersEvent)]
    return {status.name: status for status in said.servers}


def test_http_server(llm_server, tmp_path, sandbox_image, curl_image, open_conversations):
    with http_server(tmp_path) as url:
        replies = [Reply.call("weather__forecast", city="Oslo"), Reply.say("Done.")]
        said = _run(llm_server, tmp_path, sandbox_image, url, True, replies, open_conversations)
        conversation, status = open_conversations[-1], said["weather"]
        assert said["local"].state == McpServerState.FAILED
        assert "may not reach this machine" in said["local"].error
        assert status.state == McpServerState.READY and status.transport == "http"
        assert "weather__forecast" in llm_server.requests[0].tool_names
        (result,) = [e for e in conversation.state.events if isinstance(e, ObservationEvent)]
        assert result.content == "Sunny in Oslo, 21 degrees" and not result.is_error
