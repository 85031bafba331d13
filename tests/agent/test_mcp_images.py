"""Images from MCP tools: a PNG a stdio server in the container returns is kept in the
ObservationEvent and reaches the model (a user message of image parts right after the
tool results, since a tool message carries only text); one over the cap is left out with
a line saying so; a log written before attachments existed still loads."""

from __future__ import annotations

import base64
import json

from agent import Conversation
from agent.context.history import build_messages
from agent.events import ObservationEvent, parse_event
from agent.mcp import McpServerConfig
from agent.status import AgentStatus
from sandbox import DockerWorkspace
from tests.agent.helpers import make_agent, observations
from tests.support.fixtures import make_llm
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import IMAGES, put_script
from tests.support.workspaces import new_conversation_id

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_an_image_from_a_tool_reaches_the_model(
    llm_server, tmp_path, mcp_image, open_conversations
):
    llm_server.script = replies_in_order(
        [Reply.call("pics__screenshot"), Reply.call("pics__huge"), Reply.say("A blue screen.")]
    )
    workspace = DockerWorkspace(
        mcp_image, conversation_id=new_conversation_id("mcp"), network=False
    )
    workspace.start()
    script = put_script(workspace, "pics.py", IMAGES)
    agent = make_agent(llm_server)
    agent.mcp_servers = {"pics": McpServerConfig(command="python3", args=[script])}
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    open_conversations.append(conversation)
    conversation.send_message("What is on the screen?")
    assert conversation.run() == AgentStatus.FINISHED

    shot, huge = observations(conversation)
    assert not shot.is_error and shot.content.startswith("The screen, 96x64:")
    [image] = shot.attachments
    png = base64.b64decode(image.data)
    assert image.mime_type == "image/png" and png.startswith(PNG_SIGNATURE)
    assert image.size == len(png)

    # The request after the call: the tool's text in its tool message, the picture in a
    # user message right after it, as a data URI of the very bytes the server sent.
    request = llm_server.requests[1]
    roles = [m["role"] for m in request.messages]
    assert roles[-2:] == ["tool", "user"]
    assert request.image_urls() == [("user", f"data:image/png;base64,{image.data}")]
    assert shot.tool_call_id in request.messages[-1]["content"][0]["text"]

    # Over the cap: no attachment, a line that says why; the model is not sent it.
    assert huge.attachments == []
    assert "left out: over the 5 MB" in huge.content
    assert len(llm_server.requests[2].image_urls()) == 1

    # The log keeps the image, and a reopen rebuilds the same request from it.
    lines = (conversation.persistence_path / "events.jsonl").read_text().splitlines()
    rebuilt = build_messages("system", [parse_event(line) for line in lines])
    assert [m for m in rebuilt if isinstance(m["content"], list)] == [request.messages[-1]]

    # A model litellm knows to read no images (gpt-3.5-turbo) is told in words instead:
    # sent, the image would get every request refused.
    conversation.set_llm(make_llm(llm_server, model="openai/gpt-3.5-turbo"))
    llm_server.script = replies_in_order([Reply.say("Noted.")])
    conversation.send_message("And now?")
    assert conversation.run() == AgentStatus.FINISHED
    text_only = llm_server.requests[-1]
    assert text_only.body["model"] == "gpt-3.5-turbo"
    assert text_only.image_urls() == []
    said = [t for t in text_only.user_texts() if shot.tool_call_id in t]
    assert said and "does not read images" in said[0]


def test_a_log_from_before_attachments_loads():
    old = json.dumps(
        {
            "kind": "observation",
            "tool_call_id": "c1",
            "tool_name": "git__git_status",
            "content": "clean",
        }
    )
    event = parse_event(old)
    assert isinstance(event, ObservationEvent) and event.attachments == []
