"""Reopening: a closed conversation comes back whole; a killed one loses nothing but the
step in flight; and the API key is in no file and not in the container."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import docker.errors

from agent import AgentStatus, Conversation, default_persistence_dir, list_conversations
from agent.events import ObservationEvent
from sandbox import labels
from tests.agent.helpers import history, make_agent, observations, wait_until
from tests.support.fixtures import TEST_API_KEY
from tests.support.llm_server import RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[2]


def assert_key_nowhere(docker_client, folder: Path, container_id: str) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert TEST_API_KEY.encode() not in path.read_bytes(), f"the key is in {path}"
    inspected = json.dumps(docker_client.api.inspect_container(container_id))
    assert TEST_API_KEY not in inspected


def test_reopen_restores_everything_and_reattaches(llm_server, sandbox_image, docker_client):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command="echo persisted > /workspace/keep.txt && echo ok")
        return Reply.say(f"Done: {request.last_user_text()}")

    llm_server.script = script
    conversation = Conversation(make_agent(llm_server))  # default data dir, own volume
    try:
        conversation.send_message("Keep a file")
        assert conversation.run() == AgentStatus.FINISHED
        container_id = conversation.workspace.container.id
        events, stats = conversation.state.events, conversation.state.stats
        conversation.close()

        reopened = Conversation(make_agent(llm_server), conversation_id=conversation.id)

        assert reopened.persistence_path.parent == default_persistence_dir()
        assert reopened.state.events == events
        assert reopened.state.stats == stats
        assert reopened.state.agent_status == AgentStatus.FINISHED
        assert reopened.workspace.container.id == container_id
        assert reopened.workspace.read_bytes("/workspace/keep.txt") == b"persisted\n"
        summary = next(s for s in list_conversations() if s.id == conversation.id)
        assert summary.title == "Keep a file"

        reopened.send_message("And now?")
        assert reopened.run() == AgentStatus.FINISHED
        assert history(reopened)[-2].text == "Done: And now?"
        assert_key_nowhere(docker_client, default_persistence_dir().parent, container_id)
        reopened.delete()
    finally:
        if conversation.persistence_path.exists():
            conversation.delete()
    assert conversation.id not in {s.id for s in list_conversations()}
    assert not docker_client.containers.list(
        all=True, filters={"label": f"berth.conversation={conversation.id}"}
    )


CHILD = textwrap.dedent(
    """
    import sys
    from pydantic import SecretStr
    from agent import LLM, Agent, Conversation, Tool

    base_url, data_dir = sys.argv[1], sys.argv[2]
    llm = LLM(model="openai/berth-scripted", base_url=base_url, api_key=SecretStr(sys.argv[3]))
    agent = Agent(llm=llm, tools=[Tool(name="BashTool")])
    conversation = Conversation(agent, persistence_dir=data_dir)
    print(conversation.id, flush=True)
    conversation.send_message("Start something long")
    conversation.run()
    """
)


def _started(docker_client, conversation_id: str) -> bool:
    """The command's first line ran: /workspace/s.txt is in the conversation's container
    (read through the archive API, as the app reads files)."""
    found = docker_client.containers.list(
        filters={"label": f"{labels.CONVERSATION}={conversation_id}"}
    )
    if not found:
        return False
    try:
        found[0].get_archive("/workspace/s.txt")
    except docker.errors.NotFound:
        return False
    return True


def test_killed_mid_command_then_reopened_and_finished(
    llm_server, sandbox_image, docker_client, tmp_path
):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command="echo started > /workspace/s.txt; sleep 60")
        return Reply.say(f"Recovered after: {request.last_tool_result()}")

    llm_server.script = script
    data_dir = tmp_path / "conversations"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, llm_server.base_url, str(data_dir), TEST_API_KEY],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    conversation_id = None
    try:
        conversation_id = child.stdout.readline().strip()
        events_file = data_dir / conversation_id / "events.jsonl"
        wait_until(
            lambda: events_file.exists() and '"kind":"action"' in events_file.read_text(),
            timeout=60,
            what="the command to start",
        )
        # Killed once the command runs in the container (its file is there), not after a while.
        wait_until(
            lambda: _started(docker_client, conversation_id), timeout=60, what="the command to run"
        )
        child.send_signal(signal.SIGKILL)
        child.wait(10)

        reopened = Conversation(
            make_agent(llm_server), conversation_id=conversation_id, persistence_dir=data_dir
        )

        assert reopened.state.agent_status == AgentStatus.PAUSED
        stopped = observations(reopened)[-1]
        assert isinstance(stopped, ObservationEvent) and stopped.ended == "app_stopped"
        assert reopened.workspace.read_bytes("/workspace/s.txt") == b"started\n"
        assert reopened.run() == AgentStatus.FINISHED
        assert "app stopped" in llm_server.requests[-1].last_tool_result()
        assert_key_nowhere(docker_client, data_dir, reopened.workspace.container.id)
        labelled = docker_client.containers.list(
            all=True, filters={"label": f"berth.conversation={conversation_id}"}
        )
        assert [c.id for c in labelled] == [reopened.workspace.container.id]
        reopened.delete()
    finally:
        if child.poll() is None:
            child.kill()
