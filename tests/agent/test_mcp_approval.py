"""Per-tool approval of MCP tools, through a conversation driven by the scripted model: a
read-only tool runs, a destructive one waits for the user (approve runs it, reject answers
the model), one set to never is refused with a result saying so. Pause and Stop mid-call
abandon the call, never the server."""

from __future__ import annotations

import threading
from collections.abc import Callable

from agent import Conversation
from agent.events import ObservationEvent
from agent.mcp import McpServerConfig, ToolApproval
from agent.status import AgentStatus
from sandbox import DockerWorkspace
from tests.agent.helpers import make_agent, wait_until
from tests.support.llm_server import Reply, replies_in_order
from tests.support.mcp_servers import APPROVALS, put_script
from tests.support.workspaces import new_conversation_id


def _result(conversation: Conversation, index: int = -1) -> ObservationEvent:
    return [e for e in conversation.state.events if isinstance(e, ObservationEvent)][index]


def _notes_conversation(llm_server, tmp_path, image, approvals) -> Conversation:
    workspace = DockerWorkspace(image, conversation_id=new_conversation_id("mcp"), network=False)
    workspace.start()
    script = put_script(workspace, "notes.py", APPROVALS)
    agent = make_agent(llm_server)
    agent.mcp_servers = {"notes": McpServerConfig(command="python3", args=[script])}
    agent.mcp_approvals = approvals
    return Conversation(agent, workspace=workspace, persistence_dir=tmp_path)


def test_allow_ask_never(llm_server, tmp_path, mcp_image, open_conversations):
    llm_server.script = replies_in_order(
        [
            Reply.call("notes__read_note"),  # read-only: allowed by default
            Reply.call("notes__write_note", text="first"),  # destructive: asks
            Reply.call("notes__write_note", text="second"),  # asks; the user rejects
            Reply.call("notes__slow", seconds=0),  # set to never
            Reply.say("Done."),
        ]
    )
    conversation = _notes_conversation(
        llm_server, tmp_path, mcp_image, {"notes__slow": ToolApproval.NEVER}
    )
    open_conversations.append(conversation)
    conversation.send_message("Keep a note.")

    assert conversation.run() == AgentStatus.WAITING_FOR_CONFIRMATION
    assert _result(conversation).content == "(no note)"
    assert conversation.state.pending_actions[0].tool_name == "notes__write_note"
    assert "notes__write_note" in conversation.state.status_detail
    assert conversation.workspace.execute("cat /workspace/note.txt").exit_code != 0

    assert conversation.run() == AgentStatus.WAITING_FOR_CONFIRMATION  # approved: it ran
    assert _result(conversation).content == "written"
    assert conversation.workspace.read_bytes("/workspace/note.txt") == b"first"

    conversation.reject("not now")
    assert conversation.run() == AgentStatus.FINISHED
    assert conversation.workspace.read_bytes("/workspace/note.txt") == b"first"
    rejected, refused = _result(conversation, -2), _result(conversation, -1)
    assert rejected.ended == "rejected" and "not now" in rejected.content
    assert refused.is_error and "does not allow the tool notes__slow" in refused.content


def test_pause_and_stop_abandon_the_call(llm_server, tmp_path, mcp_image, open_conversations):
    llm_server.script = replies_in_order(
        [
            Reply.call("notes__slow", seconds=60),
            Reply.call("notes__slow", seconds=60),
            Reply.call("notes__read_note"),
            Reply.say("Done."),
        ]
    )
    conversation = _notes_conversation(
        llm_server, tmp_path, mcp_image, {"notes__slow": ToolApproval.ALLOW}
    )
    open_conversations.append(conversation)
    workspace = conversation.workspace
    conversation.send_message("Sleep.")

    def end_mid_call(calls: int, end: Callable[[], None]) -> ObservationEvent:
        """Run until the server is inside its slow tool, then ``end``: run() returns
        PAUSED at once; the call's result."""
        outcome: list[AgentStatus] = []
        runner = threading.Thread(target=lambda: outcome.append(conversation.run()))
        runner.start()
        wait_until(lambda: _slow_calls(workspace) == calls, what="the server to take the call")
        end()
        wait_until(lambda: outcome, timeout=10, what="run() to return")
        assert outcome == [AgentStatus.PAUSED]
        return _result(conversation)

    paused = end_mid_call(1, conversation.pause)
    assert paused.ended == "interrupted" and "abandoned" in paused.content
    assert workspace.frozen  # the server is held with the container, not ended

    stopped = end_mid_call(2, conversation.interrupt)
    assert stopped.ended == "interrupted" and "stopped" in stopped.content

    # The same server answers the next call.
    assert conversation.run() == AgentStatus.FINISHED
    assert _result(conversation).content == "(no note)"


def _slow_calls(workspace: DockerWorkspace) -> int:
    """How many calls of the slow tool the server has begun (its own count, in a file)."""
    try:
        return len(workspace.read_bytes("/tmp/slow-calls"))
    except FileNotFoundError:
        return 0
