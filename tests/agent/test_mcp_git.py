"""The reference MCP server (`mcp-server-git`, from PyPI) over stdio inside the
conversation's container: named in /workspace/.mcp.json, its tools reach the model as
`git__<tool>`, a call's result names an untracked file, its process lives in the container
(docker top) and not among this machine's own, Pause freezes it, close ends it, and it is
back after reopen."""

from __future__ import annotations

import json
import os
import subprocess
import threading

from agent import Conversation
from agent.events import McpServersEvent, ObservationEvent
from agent.mcp import McpServerState
from agent.status import AgentStatus
from sandbox import DockerWorkspace
from tests.agent.helpers import make_agent, wait_until
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import freezer_state, in_other_pid_namespace
from tests.support.workspaces import new_conversation_id

MCP_JSON = {
    "mcpServers": {
        "git": {
            "command": "python3",
            "args": ["-m", "mcp_server_git", "--repository", "/workspace"],
        }
    }
}


def _server_pids(workspace: DockerWorkspace) -> list[int]:
    """Host pids of the git server's processes, from the engine's `docker top`."""
    top = workspace.container.top(ps_args="-eo pid,args")
    return [int(row[0]) for row in top["Processes"] if "mcp_server_git" in " ".join(row[1:])]


def _observation(conversation: Conversation, tool: str) -> ObservationEvent:
    found = [
        e
        for e in conversation.state.events
        if isinstance(e, ObservationEvent) and e.tool_name == tool
    ]
    assert found, f"no result of {tool}"
    return found[-1]


def test_git_server_in_the_container(llm_server, tmp_path, mcp_image, open_conversations):
    workspace = DockerWorkspace(mcp_image, conversation_id=new_conversation_id("mcp"),
                                network=False)  # fmt: skip
    workspace.start()
    workspace.write_bytes("/workspace/.mcp.json", json.dumps(MCP_JSON).encode())
    made = workspace.execute("cd /workspace && git init -q && echo draft > plan-untracked.md")
    assert made.exit_code == 0, made.output

    llm_server.script = replies_in_order(
        [Reply.call("git__git_status", repo_path="/workspace"), Reply.say("Done.")]
    )
    agent = make_agent(llm_server)
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    open_conversations.append(conversation)
    conversation.send_message("What is the state of the repository?")
    assert conversation.run() == AgentStatus.FINISHED

    # The servers said once, ready with their tools; the model got them by their names.
    said = [e for e in conversation.state.events if isinstance(e, McpServersEvent)]
    assert len(said) == 1
    (git,) = said[0].servers
    assert git.state == McpServerState.READY, git.error
    assert "git_status" in [tool.name for tool in git.tools]
    assert conversation.mcp_servers == said[0].servers  # the same, for a front end
    tools = llm_server.requests[0].body["tools"]
    status_tool = next(t for t in tools if t["function"]["name"] == "git__git_status")
    assert "repo_path" in status_tool["function"]["parameters"]["properties"]
    assert {"bash", "file_editor", "finish"} <= set(llm_server.requests[0].tool_names)

    # A call like bash's: its result names the untracked file, and so does the next request.
    result = _observation(conversation, "git__git_status")
    assert not result.is_error
    assert "plan-untracked.md" in result.content
    assert "plan-untracked.md" in (llm_server.requests[1].last_tool_result() or "")

    # The server lives in the container: the engine lists it; seen from this machine it
    # is in another pid namespace, and no child of this process.
    pids = _server_pids(workspace)
    assert pids, "docker top does not show the git server"
    assert all(in_other_pid_namespace(pid) for pid in pids)
    ours = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(os.getpid())],
                          capture_output=True, text=True).stdout  # fmt: skip
    assert "mcp_server_git" not in ours

    # Pause while a command runs: the container is frozen, and the server with it.
    llm_server.script = replies_in_order(
        [Reply.call("bash", command="sleep 2; echo slept"), Reply.say("Done.")]
    )
    conversation.send_message("Wait a little.")
    outcome: list[AgentStatus] = []
    runner = threading.Thread(target=lambda: outcome.append(conversation.run()))
    runner.start()
    wait_until(lambda: workspace.busy, what="the sleep to start")
    conversation.pause()
    runner.join(10)
    assert outcome == [AgentStatus.PAUSED]
    assert {freezer_state(pid).lower() for pid in pids} == {"frozen"}
    assert conversation.run() == AgentStatus.FINISHED
    assert {freezer_state(pid).lower() for pid in pids} == {"thawed"}

    # Closing ends it (the container stops); reopening starts it again.
    conversation_id = conversation.id
    conversation.close()
    open_conversations.remove(conversation)  # the reopened one deletes it all
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
    llm_server.script = replies_in_order(
        [Reply.call("git__git_status", repo_path="/workspace"), Reply.say("Done.")]
    )
    reopened = Conversation(
        make_agent(llm_server), conversation_id=conversation_id, persistence_dir=tmp_path
    )
    open_conversations.append(reopened)
    reopened.send_message("And now?")
    assert reopened.run() == AgentStatus.FINISHED
    assert "plan-untracked.md" in _observation(reopened, "git__git_status").content
    assert _server_pids(reopened.workspace), "the git server is not back after reopen"
    said = [e for e in reopened.state.events if isinstance(e, McpServersEvent)]
    assert len(said) == 2 and said[-1].servers[0].state == McpServerState.READY
