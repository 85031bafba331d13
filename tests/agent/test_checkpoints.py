"""Checkpoints of a conversation against a real engine and a real HTTP model server:
rewind, fork, changes, while frozen, on a named volume, a host folder and a TCP engine,
kill -9 mid-rewind, reopen and delete. The agent's image has only bash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agent import AgentStatus, Conversation
from agent.conversation.checkpoints import REWIND_FILE, REWOUND_STOPPED
from agent.events import CheckpointFailedEvent, NoticeEvent, RewindEvent
from sandbox.checkpoints import helper_image
from tests.agent.helpers import make_agent, observations, wait_until
from tests.sandbox.conftest import TcpForwarder, docker_host
from tests.support.fingerprint import DAMAGE, SEED, fingerprint
from tests.support.llm_server import RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[2]


def by_task(tasks: dict[str, list[Reply]]):
    """Replies chosen by the latest user text (a key found in it), then by how many tool
    results came after it: one script serves several conversations at once."""

    def script(request: RecordedRequest) -> Reply:
        messages = request.messages
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        text = messages[last_user]["content"]
        step = sum(1 for m in messages[last_user:] if m["role"] == "tool")
        for key, replies in tasks.items():
            if key in text:
                return replies[step] if step < len(replies) else Reply.say("Done.")
        return Reply.say("Done.")

    return script


def bash(command: str) -> Reply:
    return Reply.call("bash", command=command)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "conversations"


@pytest.fixture
def start(llm_server, data_dir, open_conversations, sandbox_image):
    """A conversation on its own named volume, seeded with the tricky files."""

    def make(workspace=None, seed: bool = True) -> Conversation:
        conversation = Conversation(
            make_agent(llm_server), workspace=workspace, persistence_dir=data_dir
        )
        open_conversations.append(conversation)
        if seed:
            conversation.workspace.execute(SEED)
        return conversation

    return make


def test_a_damaging_step_is_rewound_byte_for_byte_and_the_model_never_sees_it(llm_server, start):
    llm_server.script = by_task(
        {
            "fix it": [bash("echo one > /workspace/one.txt"), bash(DAMAGE), Reply.say("Done.")],
            "rewound": [Reply.say("Carrying on from step 1.")],
        }
    )
    conversation = start()
    workspace = conversation.workspace
    assert workspace.execute("command -v python3 git").exit_code != 0  # bash only
    seeded = fingerprint(workspace)
    conversation.send_message("fix it")
    assert conversation.run() == AgentStatus.FINISHED
    conversation.checkpoint_keeper.wait_idle()
    checkpoints = conversation.checkpoints
    assert [cp.step for cp in checkpoints] == [0, 1, 2]
    assert checkpoints[0].event_id is None
    assert [cp.event_id for cp in checkpoints[1:]] == [o.id for o in observations(conversation)]

    conversation.rewind(checkpoints[0].id)
    assert fingerprint(workspace) == seeded
    assert conversation.state.agent_status == AgentStatus.PAUSED

    # Forward again, to step 1 of the branch just abandoned: one.txt back, no damage.
    conversation.rewind(checkpoints[1].id)
    assert workspace.read_bytes("/workspace/one.txt") == b"one\n"
    assert workspace.read_bytes("/workspace/src/.git/HEAD") == b"ref: refs/heads/main\n"
    assert not workspace.exists("/workspace/added.txt")

    before = len(llm_server.requests)
    assert conversation.run() == AgentStatus.FINISHED
    request = llm_server.requests[before]
    sent = json.dumps(request.messages)
    assert "echo one" in sent and "rm -rf src/.git" not in sent
    assert "rewound /workspace to checkpoint step 1" in request.last_user_text()
    # The log keeps everything: both rewinds, and the abandoned damage.
    events = conversation.state.events
    assert sum(isinstance(e, RewindEvent) for e in events) == 2
    assert any("rm -rf src/.git" in json.dumps(getattr(e, "arguments", {})) for e in events)


def test_fork_from_an_early_step_while_the_original_carries_on(llm_server, start):
    llm_server.script = by_task(
        {
            "build": [bash("echo a > /workspace/a.txt"), bash("echo b > /workspace/b.txt")],
            "more": [bash("sleep 1; echo c > /workspace/c.txt")],
            "other way": [bash("echo f > /workspace/f.txt")],
        }
    )
    original = start()
    original.send_message("build")
    assert original.run() == AgentStatus.FINISHED
    original.checkpoint_keeper.wait_idle()
    step_one = original.checkpoints[1]

    original.send_message("more")
    result: list[AgentStatus] = []
    thread = threading.Thread(target=lambda: result.append(original.run()), daemon=True)
    thread.start()
    fork = original.fork(step_one.id)
    try:
        assert fork.id != original.id
        assert fork.workspace.container.id != original.workspace.container.id
        assert fork.workspace.volume != original.workspace.volume
        assert fork.workspace.read_bytes("/workspace/a.txt") == b"a\n"
        assert not fork.workspace.exists("/workspace/b.txt")
        assert [cp.step for cp in fork.checkpoints] == [0, 1]
        commands = [e.arguments.get("command") for e in fork.state.events if e.kind == "action"]
        assert commands == ["echo a > /workspace/a.txt"]

        fork.send_message("try another way")
        assert fork.run() == AgentStatus.FINISHED
        thread.join(60)
        assert result == [AgentStatus.FINISHED]
        assert original.workspace.exists("/workspace/c.txt")
        assert original.workspace.exists("/workspace/b.txt")
        assert not original.workspace.exists("/workspace/f.txt")
        assert fork.workspace.exists("/workspace/f.txt")
        assert not fork.workspace.exists("/workspace/c.txt")
    finally:
        fork.delete()


def test_changes_after_bash_and_file_editor_steps(llm_server, start):
    edit = Reply.call(
        "file_editor",
        command="str_replace",
        path="/workspace/src/app.py",
        old_str="return 1",
        new_str="return 42",
    )
    create = Reply.call(
        "file_editor", command="create", path="/workspace/new.py", file_text="print('hi')\n"
    )
    llm_server.script = by_task(
        {"change": [bash("rm -r /workspace/docs; echo x >> /workspace/blob.bin"), edit, create]}
    )
    conversation = start()
    assert conversation.changes() == []  # nothing ran: the workspace as found
    conversation.send_message("change things")
    assert conversation.run() == AgentStatus.FINISHED

    changes = {c.path: c for c in conversation.changes()}
    assert {path: c.kind for path, c in changes.items()} == {
        "/workspace/docs/notes.txt": "deleted",
        "/workspace/blob.bin": "modified",
        "/workspace/src/app.py": "modified",
        "/workspace/new.py": "added",
    }
    assert "-    return 1\n+    return 42\n" in (changes["/workspace/src/app.py"].diff or "")
    assert "+print('hi')" in (changes["/workspace/new.py"].diff or "")
    assert changes["/workspace/blob.bin"].binary
    assert changes["/workspace/blob.bin"].new_size == 3002
    since_edit = conversation.changes(since=conversation.checkpoints[2].id)
    assert [(c.path, c.kind) for c in since_edit] == [("/workspace/new.py", "added")]


def test_checkpoint_and_rewind_while_the_container_is_frozen(llm_server, start):
    llm_server.script = by_task({"slow": [bash("echo x > /workspace/during.txt; sleep 60")]})
    conversation = start()
    seeded = fingerprint(conversation.workspace)
    conversation.send_message("slow work")
    result: list[AgentStatus] = []
    thread = threading.Thread(target=lambda: result.append(conversation.run()), daemon=True)
    thread.start()
    wait_until(lambda: conversation.workspace.exists("/workspace/during.txt"), what="the file")
    conversation.pause()
    thread.join(10)
    assert result == [AgentStatus.PAUSED] and conversation.workspace.frozen

    # Read and compared through the helper while every process of the agent is frozen.
    added = [(c.path, c.kind) for c in conversation.changes()]
    assert added == [("/workspace/during.txt", "added")]
    assert conversation.workspace.frozen

    conversation.rewind(conversation.checkpoints[0].id)
    assert conversation.state.agent_status == AgentStatus.PAUSED
    assert not conversation.workspace.frozen
    assert observations(conversation)[-1].content.endswith(REWOUND_STOPPED)
    conversation.checkpoint_keeper.wait_idle()
    assert fingerprint(conversation.workspace) == seeded


def test_rewind_on_a_host_folder(llm_server, start, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "main.py").write_text("print('original')\n")
    llm_server.script = by_task({"edit": [bash("rm /workspace/main.py; echo junk > junk")]})
    conversation = start(workspace=folder, seed=False)
    conversation.send_message("edit the project")
    assert conversation.run() == AgentStatus.FINISHED
    assert not (folder / "main.py").exists()
    conversation.rewind(conversation.checkpoints[0].id)
    # What the user sees on their own disk:
    assert (folder / "main.py").read_text() == "print('original')\n"
    assert not (folder / "junk").exists()


def test_checkpoints_over_a_tcp_engine(llm_server, start, docker_client):
    forwarder = None
    tcp = os.environ.get("BERTH_TEST_DOCKER_TCP")
    if not tcp:
        forwarder = TcpForwarder("/var/run/docker.sock").start()
        tcp = f"tcp://127.0.0.1:{forwarder.port}"
    llm_server.script = by_task({"go": [bash("rm -rf /workspace/src")]})
    try:
        with docker_host(tcp):
            conversation = start()
            assert conversation.workspace.client.api.base_url.startswith("http://127.0.0.1")
            conversation.send_message("go")
            assert conversation.run() == AgentStatus.FINISHED
            assert [c.kind for c in conversation.changes()] == ["deleted", "deleted"]
            conversation.rewind(conversation.checkpoints[0].id)
            assert conversation.workspace.read_bytes("/workspace/src/app.py").startswith(b"def")
            conversation.delete()
    finally:
        if forwarder is not None:
            forwarder.close()


def test_checkpoints_survive_reopen_and_go_with_delete(llm_server, start, data_dir, docker_client):
    llm_server.script = by_task({"go": [bash("echo one > /workspace/one.txt")]})
    conversation = start()
    conversation.send_message("go")
    assert conversation.run() == AgentStatus.FINISHED
    conversation.checkpoint_keeper.wait_idle()
    ids = [cp.id for cp in conversation.checkpoints]
    conversation.close()

    reopened = Conversation(
        make_agent(llm_server), conversation_id=conversation.id, persistence_dir=data_dir
    )
    assert [cp.id for cp in reopened.checkpoints] == ids
    reopened.rewind(ids[0])
    assert not reopened.workspace.exists("/workspace/one.txt")
    reopened.delete()
    refs = docker_client.containers.run(
        helper_image(),
        ["bash", "-c", f"ls /store/refs/{conversation.id} 2>&1 || true"],
        volumes={os.environ["BERTH_CHECKPOINT_VOLUME"]: {"bind": "/store", "mode": "ro"}},
        remove=True,
        network_mode="none",
    )
    assert b"No such file" in refs
    helpers = docker_client.containers.list(
        all=True, filters={"label": f"berth.checkpoints.of={conversation.id}"}
    )
    assert helpers == []


@pytest.mark.parametrize(
    "image",
    # A tag no registry has; and Berth's own image, which a machine that reaches no registry
    # cannot build (its Dockerfile's base cannot be pulled).
    ["berth-test-no-such-image:none", None],
    ids=["missing", "not-buildable"],
)
def test_a_missing_helper_image_is_said_once_and_the_run_goes_on(
    llm_server, start, monkeypatch, image
):
    if image is None:
        from sandbox.images.berth_image import default_tag

        monkeypatch.delenv("BERTH_CHECKPOINT_IMAGE", raising=False)
        image = default_tag()
    else:
        monkeypatch.setenv("BERTH_CHECKPOINT_IMAGE", image)
    llm_server.script = by_task({"go": [bash("echo one > /workspace/one.txt")]})
    conversation = start()
    conversation.send_message("go")
    assert conversation.run() == AgentStatus.FINISHED
    conversation.checkpoint_keeper.wait_idle()
    # A missing helper image is said once (a notice), not as a warning per step.
    events = conversation.state.events
    assert not [e for e in events if isinstance(e, CheckpointFailedEvent)]
    notices = [e for e in events if isinstance(e, NoticeEvent) and e.source == "checkpoints"]
    assert len(notices) == 1 and image in notices[0].text
    assert "build-offline" in notices[0].text  # how to build it with no registry
    assert conversation.workspace.read_bytes("/workspace/one.txt") == b"one\n"


KILLED_REWIND = """
import sys
from agent import Agent, Conversation, LLM, Tool
llm = LLM(model="openai/x", base_url="http://127.0.0.1:9")
agent = Agent(llm=llm, tools=[Tool(name="BashTool")])
conversation = Conversation(agent, conversation_id=sys.argv[1], persistence_dir=sys.argv[2])
conversation.rewind(sys.argv[3])
"""


def test_kill_9_mid_rewind_leaves_the_old_or_the_new_state(
    llm_server, start, data_dir, docker_client
):
    llm_server.script = by_task(
        {
            "go": [
                bash(
                    "mkdir /workspace/many; cd /workspace/many; head -c 25165824 "
                    "/dev/urandom | split -b 32768 -a 3; cd /workspace"
                )
            ]
        }
    )
    conversation = start()
    conversation.send_message("go")
    assert conversation.run() == AgentStatus.FINISHED
    many = fingerprint(conversation.workspace)
    conversation.checkpoint_keeper.wait_idle()
    first, second = (cp.id for cp in conversation.checkpoints)
    conversation.rewind(first)  # so that rewinding to step 1 writes 24 MB back
    conversation.close()

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_REWIND, conversation.id, str(data_dir), second], env=env
    )
    intent = data_dir / conversation.id / REWIND_FILE
    wait_until(lambda: intent.exists() or process.poll() is not None, what="the rewind")
    # Everything dies at once, mid-restore: the app, and the helper doing the restore.
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    for helper in docker_client.containers.list(
        filters={"label": f"berth.checkpoints.of={conversation.id}"}
    ):
        helper.kill()
    assert intent.exists()

    reopened = Conversation(
        make_agent(llm_server), conversation_id=conversation.id, persistence_dir=data_dir
    )
    assert not intent.exists()
    assert fingerprint(reopened.workspace) == many
    rewinds = [e.checkpoint_id for e in reopened.state.events if isinstance(e, RewindEvent)]
    assert rewinds == [first, second]
    assert reopened.state.agent_status == AgentStatus.PAUSED
    reopened.delete()


def test_rewind_to_an_unknown_checkpoint_says_so(start):
    conversation = start()
    with pytest.raises(KeyError, match="No checkpoint 'nope'"):
        conversation.rewind("nope")


DAEMON = (
    "printf 'while :; do date > /workspace/clock; sleep 0.1; done\\n' > /tmp/berth-daemon.sh; "
    "setsid bash /tmp/berth-daemon.sh > /dev/null 2>&1 < /dev/null &"
)
ALIVE = "for p in /proc/[0-9]*; do grep -qs berth-daemon $p/cmdline && echo ${p#/proc/}; done"


def test_a_rewind_ends_what_the_agent_left_running(llm_server, start):
    llm_server.script = by_task({"go": [bash(DAEMON)]})
    conversation = start()
    conversation.send_message("go")
    assert conversation.run() == AgentStatus.FINISHED
    workspace = conversation.workspace
    wait_until(lambda: workspace.exists("/workspace/clock"), what="the daemon's clock")
    conversation.checkpoint_keeper.wait_idle()

    conversation.rewind(conversation.checkpoints[0].id)
    # Nothing it left writes on into the rewound workspace, and the shell still works.
    assert workspace.execute(ALIVE).output.strip() == ""
    assert workspace.execute("sleep 0.5; ls /workspace/clock 2>&1").exit_code != 0


def test_a_rewind_that_cannot_be_finished_never_shuts_the_conversation(llm_server, start, data_dir):
    llm_server.script = by_task(
        {"go": [bash("echo one > /workspace/one.txt")], "again": [bash("echo 2 > /workspace/2")]}
    )
    conversation = start()
    conversation.send_message("go")
    assert conversation.run() == AgentStatus.FINISHED
    conversation.checkpoint_keeper.wait_idle()
    conversation.close()
    intent = data_dir / conversation.id / REWIND_FILE
    # A rewind cut short whose content is gone from the store: it can never be finished.
    pruned = {"rewind_id": "r1", "checkpoint_id": "c1", "step": 1, "tree": "0" * 64}
    intent.write_text(json.dumps({**pruned, "to_event_id": None}))

    reopened = Conversation(
        make_agent(llm_server), conversation_id=conversation.id, persistence_dir=data_dir
    )
    assert reopened.state.agent_status != AgentStatus.ERROR
    reopened.send_message("again")
    assert reopened.run() == AgentStatus.FINISHED
    assert not intent.exists()
    assert reopened.workspace.read_bytes("/workspace/2") == b"2\n"
    warnings = [e for e in reopened.state.events if isinstance(e, CheckpointFailedEvent)]
    assert "rewind to step 1 could not be finished" in warnings[-1].message
    reopened.close()

    intent.write_text("{not json")  # and one that cannot even be read
    again = Conversation(
        make_agent(llm_server), conversation_id=conversation.id, persistence_dir=data_dir
    )
    assert not intent.exists()
    warnings = [e for e in again.state.events if isinstance(e, CheckpointFailedEvent)]
    assert "could not be read" in warnings[-1].message
    again.send_message("again")
    assert again.run() == AgentStatus.FINISHED
    again.delete()
