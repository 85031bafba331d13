"""When the MCP tools' schemas would take over a tenth of the model's context window, the
model gets a compact list (names and one line each, in `find_tools`' description) and
`find_tools` returns full schemas on demand; a tool called by its name still works."""

from __future__ import annotations

import json

from agent import Conversation
from agent.events import NoticeEvent, ObservationEvent
from agent.mcp import McpServerConfig
from agent.status import AgentStatus
from sandbox import DockerWorkspace
from tests.agent.helpers import make_agent
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import many_tools_server, put_script
from tests.support.workspaces import new_conversation_id


def test_compact_list_past_the_budget(llm_server, tmp_path, mcp_image, open_conversations):
    workspace = DockerWorkspace(mcp_image, conversation_id=new_conversation_id("mcp"),
                                network=False)  # fmt: skip
    workspace.start()
    script = put_script(workspace, "big.py", many_tools_server(40))
    llm_server.script = replies_in_order(
        [
            Reply.call("find_tools", query="tool_7"),
            Reply.call("big__tool_7", value="x"),
            Reply.say("Done."),
        ]
    )
    # 40 tools of ~150 tokens each: far past a tenth of an 8,000-token window.
    agent = make_agent(llm_server, context_window=8000)
    agent.mcp_servers = {"big": McpServerConfig(command="python3", args=[script])}
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    open_conversations.append(conversation)
    conversation.send_message("Use tool 7.")
    assert conversation.run() == AgentStatus.FINISHED

    first = llm_server.requests[0]
    assert first.tool_names == ["bash", "file_editor", "finish", "find_tools"]
    finder = first.body["tools"][-1]["function"]
    assert "big__tool_0: Tool number 0" in finder["description"]
    assert "big__tool_39" in finder["description"]
    # One line a tool (the 40 full schemas would take some 24,000 characters).
    assert len(json.dumps(finder)) < 8000

    # A name the providers refuse is left out, and said.
    assert "search.files" not in json.dumps(first.body["tools"])
    (left_out,) = [e for e in conversation.state.events if isinstance(e, NoticeEvent)
                   and e.source == "mcp"]  # fmt: skip
    assert left_out.title == "1 MCP tool left out" and "big__search.files" in left_out.text

    found, called = [e for e in conversation.state.events if isinstance(e, ObservationEvent)]
    schemas = json.loads(found.content)
    assert schemas[0]["name"] == "big__tool_7"
    assert "value" in schemas[0]["parameters"]["properties"]
    assert called.content == "tool 7 got x" and not called.is_error
