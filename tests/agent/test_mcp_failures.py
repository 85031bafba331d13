"""MCP servers that go wrong never end the run: one that never answers `initialize` is
said as failed (with why) after its start timeout, one that ends at once with its stderr;
a bad .mcp.json is a notice; a server that crashes mid-call gives the model an error result
(its stderr's last lines), is said as failed, and is started again for the next call."""

from __future__ import annotations

import threading

from agent import Conversation
from agent.events import McpServersEvent, NoticeEvent, ObservationEvent
from agent.mcp import McpServerConfig, McpServerState
from agent.status import AgentStatus
from sandbox import DockerWorkspace
from tests.agent.helpers import make_agent, wait_until
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import CRASHING, put_script
from tests.support.workspaces import new_conversation_id


def _results(conversation: Conversation) -> list[ObservationEvent]:
    return [e for e in conversation.state.events if isinstance(e, ObservationEvent)]


def test_failing_servers_leave_the_run_going(llm_server, tmp_path, mcp_image, open_conversations):
    workspace = DockerWorkspace(mcp_image, conversation_id=new_conversation_id("mcp"),
                                network=False)  # fmt: skip
    workspace.start()
    crashy = put_script(workspace, "crashy.py", CRASHING)
    workspace.write_bytes("/workspace/.mcp.json", b'{"mcpServers": {"oops": {"args": []}}}')

    llm_server.script = replies_in_order(
        [
            Reply.call("crashy__echo", text="hi"),
            Reply.call("crashy__crash"),
            Reply.call("crashy__echo", text="again"),
            Reply.say("Done."),
        ]
    )
    agent = make_agent(llm_server)
    agent.mcp_servers = {
        # Never answers initialize: a short start timeout.
        "mute": McpServerConfig(command="sleep", args=["infinity"], start_timeout_s=1.5),
        "crashy": McpServerConfig(command="python3", args=[crashy]),
        # Ends at once, saying why on stderr.
        "broken": McpServerConfig(command="python3", args=["-m", "no_such_server"]),
    }
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    open_conversations.append(conversation)
    conversation.send_message("Try the servers.")
    status = conversation.run()
    assert status == AgentStatus.FINISHED, [str(e)[:300] for e in conversation.state.events]

    events = conversation.state.events
    notices = [e for e in events if isinstance(e, NoticeEvent) and e.source == "mcp"]
    assert len(notices) == 1 and "oops" in notices[0].text and ".mcp.json" in notices[0].title

    said = [e for e in events if isinstance(e, McpServersEvent)]
    first = {status.name: status for status in said[0].servers}
    assert first["mute"].state == McpServerState.FAILED
    assert "did not answer initialize" in first["mute"].error
    assert "1.5 s" in first["mute"].error
    assert first["crashy"].state == McpServerState.READY
    assert first["broken"].state == McpServerState.FAILED
    assert "No module named no_such_server" in first["broken"].error
    # The model never saw the mute server's tools, and got crashy's.
    assert "crashy__echo" in llm_server.requests[0].tool_names
    assert not any(name.startswith("mute__") for name in llm_server.requests[0].tool_names)

    echo, crash, again = _results(conversation)
    assert echo.content == "echo: hi" and not echo.is_error
    assert crash.is_error
    assert "exit code 7" in crash.content
    assert "going down on purpose" in crash.content  # its stderr's last lines
    # Said once as failed (with why), then back for the next call.
    crashed = [s for e in said[1:] for s in e.servers if s.name == "crashy"]
    assert crashed[0].state == McpServerState.FAILED
    assert "going down on purpose" in crashed[0].error
    assert crashed[-1].state == McpServerState.READY
    assert again.content == "echo: again" and not again.is_error


def test_server_back_in_a_new_container(
    llm_server, tmp_path, mcp_image, docker_client, open_conversations
):
    """The container removed under a ready server: the next call brings the container back
    (as a bash command would), and the call after it reaches the server, started anew."""
    workspace = DockerWorkspace(mcp_image, conversation_id=new_conversation_id("mcp"),
                                network=False)  # fmt: skip
    workspace.start()
    # In /workspace: the new container has it too (the volume stays).
    workspace.write_bytes("/workspace/crashy.py", CRASHING.encode())
    made: list[Conversation] = []

    def remove_the_container() -> Reply:
        docker_client.containers.get(workspace.container.id).remove(force=True)
        wait_until(lambda: made[0].mcp_servers[0].state == McpServerState.FAILED,
                   what="the server to be said ended")  # fmt: skip
        return Reply.call("crashy__echo", text="two")

    replies = iter(
        [
            lambda: Reply.call("crashy__echo", text="one"),
            remove_the_container,
            lambda: Reply.call("crashy__echo", text="three"),
            lambda: Reply.say("Done."),
        ]
    )
    llm_server.script = lambda _request: next(replies)()
    agent = make_agent(llm_server)
    agent.mcp_servers = {
        "crashy": McpServerConfig(command="python3", args=["/workspace/crashy.py"])
    }
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    made.append(conversation)
    open_conversations.append(conversation)
    conversation.send_message("Echo thrice.")
    assert conversation.run() == AgentStatus.FINISHED

    one, two, three = _results(conversation)
    assert one.content == "echo: one"
    assert two.is_error and "container" in two.content and "/workspace are kept" in two.content
    assert three.content == "echo: three" and not three.is_error
    revived = [e for e in conversation.state.events
               if isinstance(e, NoticeEvent) and e.source == "container"]  # fmt: skip
    assert len(revived) == 1
    assert conversation.mcp_servers[0].state == McpServerState.READY


def test_pause_while_the_servers_start(llm_server, tmp_path, sandbox_image, open_conversations):
    """The first step waits for the servers; a pause then returns at once, and the run
    resumed goes on without the server that never answered."""
    agent = make_agent(llm_server)
    agent.mcp_servers = {
        "mute": McpServerConfig(command="sleep", args=["infinity"], start_timeout_s=5)
    }
    workspace = DockerWorkspace(sandbox_image, conversation_id=new_conversation_id("mcp"),
                                network=False)  # fmt: skip
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    open_conversations.append(conversation)
    conversation.send_message("Hello.")
    outcome: list[AgentStatus] = []
    runner = threading.Thread(target=lambda: outcome.append(conversation.run()))
    runner.start()
    wait_until(lambda: conversation.state.agent_status == AgentStatus.RUNNING, what="the run")
    conversation.pause()
    runner.join(10)
    assert outcome == [AgentStatus.PAUSED]
    assert "MCP servers" in conversation.state.status_detail
    assert not llm_server.requests  # no step before the servers have started

    assert conversation.run() == AgentStatus.FINISHED
    assert conversation.mcp_servers[0].state == McpServerState.FAILED
    assert len(llm_server.requests) == 1
