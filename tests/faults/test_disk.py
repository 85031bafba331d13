"""A disk that fills up or turns read-only under a conversation, and a damaged state.json.

The persistence folder sits on a 1 MiB tmpfs mounted for the test (root is needed to mount
it; CI runs as root). What must hold: every line of events.jsonl stays a whole event, the
run pauses with one clear sentence, nothing recorded is lost or run twice, and once space
is back the run carries on. A constructor that fails leaves no container running.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import AgentStatus, Conversation
from agent.conversation.persistence import PersistenceError
from agent.events import ActionEvent, parse_event
from tests.agent.helpers import make_agent, make_conversation, observations
from tests.support.llm_server import RecordedRequest, Reply

COUNTER = "/workspace/runs"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _leave_free(folder: Path, free: int) -> Path:
    """Fill the filesystem of ``folder`` until only about ``free`` bytes are left."""
    stats = os.statvfs(folder)
    filler = folder / "filler"
    filler.write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - free))
    return filler


def _lines_on_disk(conversation: Conversation) -> list[str]:
    raw = (conversation.persistence_path / "events.jsonl").read_bytes()
    assert raw.endswith(b"\n") or not raw  # never half an event at the end
    return [parse_event(line).id for line in raw.splitlines()]  # each line one whole event


def _chatty_script(steps: int):
    """Each step runs a command that counts its runs and prints ~6 KB."""

    def script(request: RecordedRequest) -> Reply:
        done = len(request.tool_results())
        if done < steps:
            noise = "head -c 6000 /dev/zero | tr '\\0' y"
            return Reply.call("bash", command=f"echo {done} >> {COUNTER}; {noise}")
        return Reply.say("All steps done.")

    return script


def test_a_full_disk_pauses_with_a_clear_error_and_loses_nothing(
    llm_server, make_ws, small_disk: Path
) -> None:
    llm_server.script = _chatty_script(steps=12)
    ws = make_ws()
    conversation = make_conversation(llm_server, ws, small_disk / "conversations")
    conversation.send_message("Make some noise")
    filler = _leave_free(small_disk, 40_000)

    status = conversation.run()

    assert status == AgentStatus.PAUSED
    assert "cannot write the conversation" in conversation.state.status_detail
    assert "No space left on device" in conversation.state.status_detail
    on_disk = _lines_on_disk(conversation)
    assert on_disk == [e.id for e in conversation.state.events]  # memory never ahead of disk
    ran_before = len(ws.read_bytes(COUNTER).split())

    filler.unlink()
    assert conversation.run() == AgentStatus.FINISHED

    events = conversation.state.events
    assert _lines_on_disk(conversation) == [e.id for e in events]
    calls = [e for e in events if isinstance(e, ActionEvent)]
    assert len(calls) == 12 == len(observations(conversation))
    # The command in flight when the disk filled ran once: its result waited, not the call.
    assert len(ws.read_bytes(COUNTER).split()) == 12 >= ran_before


def test_a_folder_gone_read_only_is_a_clear_error_and_keeps_everything(
    llm_server, make_ws, small_disk: Path, docker_client
) -> None:
    llm_server.script = _chatty_script(steps=2)
    ws = make_ws()
    folder = small_disk / "conversations"
    conversation = make_conversation(llm_server, ws, folder)
    conversation.send_message("Two steps")
    assert conversation.run() == AgentStatus.FINISHED
    conversation.close()
    before = _lines_on_disk(conversation)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(PersistenceError, match="Read-only file system"):
            make_conversation(llm_server, ws, folder, conversation_id=conversation.id)
        assert not docker_client.containers.list(filters={"id": ws.container.id})  # stopped
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    again = make_conversation(llm_server, ws, folder, conversation_id=conversation.id)
    assert [e.id for e in again.state.events[: len(before)]] == before
    assert len(observations(again)) == 2
    again.close()


def test_a_constructor_that_fails_leaves_no_container_running(
    llm_server, sandbox_image, small_disk: Path, docker_client
) -> None:
    from sandbox import DockerWorkspace

    folder = small_disk / "conversations"
    folder.mkdir()
    _leave_free(small_disk, 0)
    conversation_id = f"fault-{uuid.uuid4().hex[:10]}"
    workspace = DockerWorkspace(sandbox_image, conversation_id=conversation_id)
    try:
        with pytest.raises(PersistenceError, match="No space left on device"):
            Conversation(
                make_agent(llm_server),
                workspace=workspace,
                conversation_id=conversation_id,
                persistence_dir=folder,
            )
        running = docker_client.containers.list(
            filters={"label": f"berth.conversation={conversation_id}"}
        )
        assert running == []
    finally:
        workspace.remove(volume=True)


@pytest.mark.parametrize("damage", ["missing", "empty", "garbled"])
def test_a_damaged_state_json_is_rebuilt_from_the_events(
    llm_server, ws, tmp_path: Path, damage: str
) -> None:
    llm_server.script = lambda _r: Reply.say("Hello there.")
    folder = tmp_path / "conversations"
    first = make_conversation(llm_server, ws, folder)
    first.send_message("Say hello to the rebuilt state")
    assert first.run() == AgentStatus.FINISHED
    events = [e.id for e in first.state.events]
    first.close()
    state = first.persistence_path / "state.json"
    {"missing": state.unlink, "empty": lambda: state.write_text(""),
     "garbled": lambda: state.write_text('{"id": 3, "agent_st')}[damage]()  # fmt: skip

    again = make_conversation(llm_server, ws, folder, conversation_id=first.id)

    assert [e.id for e in again.state.events[: len(events)]] == events  # not started over
    assert again.state.title == "Say hello to the rebuilt state"
    assert again.state.agent_status == AgentStatus.FINISHED
    assert again.stats.llm_calls == 1
    assert json.loads(state.read_text())["id"] == first.id  # written whole again
    again.close()


LIMIT_SAID = (
    r"\[The sandbox's disk limit of 50 MiB is reached "
    r"\(/workspace [\d.]+ (bytes|KiB|MiB), other files [\d.]+ (bytes|KiB|MiB)\): "
    r"delete files to go on\.\]"
)
SLOW_WRITER = "for i in $(seq 100); do head -c 1M /dev/zero >> {path}; sleep 0.02; done; sleep 600"


@pytest.mark.parametrize("path", ["/workspace/big", "/var/tmp/big"])
def test_the_disk_limit_ends_the_command_with_a_clear_message(make_ws, path: str) -> None:
    ws = make_ws(disk_limit="50m")
    ws.start()

    result = ws.execute(SLOW_WRITER.format(path=path), timeout=300)

    assert result.interrupted  # ended by the limit, not by its own end (sleep 600)
    said = result.output.strip().splitlines()[-1]
    assert re.fullmatch(LIMIT_SAID, said), said
    # Deleting is what the message asks, and then commands run without it.
    after = ws.execute(f"rm -f {path}; echo freed", timeout=60)
    assert after.output == "freed\n"


def test_a_full_sandbox_disk_is_one_clear_message(make_ws, small_disk: Path) -> None:
    ws = make_ws(host_dir=small_disk)
    ws.start()

    result = ws.execute("head -c 4M /dev/zero > /workspace/fill", timeout=60)

    assert "No space left on device" in result.output
    assert "[The sandbox's disk is full (/workspace " in result.output
    assert result.output.rstrip().endswith(": delete files to go on.]")
