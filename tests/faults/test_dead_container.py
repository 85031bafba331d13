"""The container dies under a running command: killed, stopped, removed, or by the agent.

Each time the run goes on: the container comes back with the conversation's settings, the
model is told what was lost in the tool call's result, the user gets a notice (not an
error), /workspace is kept, and the next command works.
"""

from __future__ import annotations

import threading

import pytest

from agent import AgentStatus
from agent.events import AgentErrorEvent, NoticeEvent
from tests.agent.helpers import make_conversation, observations, wait_until
from tests.support.llm_server import RecordedRequest, Reply

LONG = "echo kept > /workspace/kept; echo lost > /tmp/lost; echo started; sleep 60"
CHECK = "cat /workspace/kept; ls /tmp/lost 2>&1 | tail -1"


def _script(first: str):
    def script(request: RecordedRequest) -> Reply:
        last = request.last_tool_result()
        if last is None:
            return Reply.call("bash", command=first)
        if last.startswith("kept"):
            return Reply.say("Checked.")
        return Reply.call("bash", command=CHECK)

    return script


@pytest.mark.parametrize("how", ["kill", "stop", "rm", "agent-kill-all"])
def test_the_run_goes_on_after_the_container_dies(
    llm_server, make_ws, tmp_path, docker_client, how: str
) -> None:
    ws = make_ws(network=False, memory="300m")
    llm_server.script = _script("kill -9 -1" if how == "agent-kill-all" else LONG)
    conversation = make_conversation(llm_server, ws, tmp_path)
    conversation.send_message("Work, then check")
    result: list[AgentStatus] = []
    if how == "agent-kill-all":
        ws.execute("echo kept > /workspace/kept; echo lost > /tmp/lost", timeout=30)
        result.append(conversation.run())
    else:
        thread = threading.Thread(target=lambda: result.append(conversation.run()))
        thread.start()
        wait_until(lambda: ws.exists("/tmp/lost"), what="the command to start")
        container = docker_client.containers.get(ws.container.id)
        {"kill": container.kill, "stop": lambda: container.stop(timeout=1),
         "rm": lambda: container.remove(force=True)}[how]()  # fmt: skip
        thread.join(60)

    assert result == [AgentStatus.FINISHED]
    assert not any(isinstance(e, AgentErrorEvent) for e in conversation.state.events)
    notices = [e for e in conversation.state.events if isinstance(e, NoticeEvent)]
    assert len(notices) == 1 and "/workspace are kept" in notices[0].text
    # `kill -9 -1` returns before the container stops: the next call finds it gone.
    *_, lost, check = observations(conversation)
    assert "Lost: every process" in lost.content and lost.is_error
    assert check.content.startswith("kept\n")  # /workspace survived
    removed = how == "rm"
    assert ("No such file" in check.content) == removed  # /tmp survives a restart only
    assert ("outside /workspace" in lost.content) == removed
    # The saved settings came back with it.
    host = docker_client.containers.get(ws.container.id).attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["Memory"] == 300 * 1024**2
    # The model read what was lost before it went on.
    assert any("Lost: every process" in (r.last_tool_result() or "") for r in llm_server.requests)
