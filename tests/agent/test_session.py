"""The Qt-free session: its command rules, and conversations driven through it against a
real engine and the scripted model server (several at once, each in its own container)."""

from __future__ import annotations

import threading

import docker
import pytest

from agent import AgentStatus
from agent.conversation.deletion import delete_saved, pending_removals, remove_pending
from agent.session import notices as n
from agent.session.commands import Command, Phase, allowed_commands
from agent.session.session import Session, conversation_factory
from sandbox import labels
from tests.agent.helpers import make_agent, wait_until
from tests.sandbox.conftest import docker_host
from tests.support.llm_server import RecordedRequest, Reply
from tests.support.workspaces import closed_port_docker_host

# --- the rules, without Docker ---------------------------------------------------------------


def test_the_rules_say_what_each_phase_and_status_allow():
    S = AgentStatus
    C = Command
    assert allowed_commands(Phase.CLOSED, S.RUNNING) == frozenset()
    assert allowed_commands(Phase.NOT_STARTED, S.IDLE) == {C.START, C.SEND, C.CLOSE, C.DELETE}
    # While the container starts, only typing ahead (and leaving) make sense.
    assert allowed_commands(Phase.STARTING, S.IDLE) == {C.SEND, C.CLOSE, C.DELETE}
    running = allowed_commands(Phase.RUNNING, S.RUNNING)
    assert {C.PAUSE, C.STOP, C.SEND} <= running and C.RESUME not in running
    returning = allowed_commands(Phase.RUNNING, S.PAUSED)  # the run is pausing, not done
    assert C.RESUME in returning and C.PAUSE not in returning
    paused = allowed_commands(Phase.OPEN, S.PAUSED)
    assert {C.RESUME, C.STOP, C.SEND} <= paused and C.PAUSE not in paused
    assert C.APPROVE not in paused
    waiting = allowed_commands(Phase.OPEN, S.WAITING_FOR_CONFIRMATION)
    assert {C.APPROVE, C.REJECT, C.STOP} <= waiting
    # Asked for approval while run() is still returning: the answer is kept for then.
    assert {C.APPROVE, C.REJECT} <= allowed_commands(Phase.RUNNING, S.WAITING_FOR_CONFIRMATION)
    finished = allowed_commands(Phase.OPEN, S.FINISHED)
    assert C.SEND in finished and not {C.RESUME, C.STOP, C.PAUSE} & finished
    assert C.RESUME in allowed_commands(Phase.OPEN, S.ERROR)
    assert C.RESUME not in allowed_commands(Phase.OPEN, S.STUCK)  # a new message, rather
    # Rewind and fork once open, whatever the status (a run is paused first).
    for phase, status in ((Phase.RUNNING, S.RUNNING), (Phase.OPEN, S.FINISHED)):
        assert {C.REWIND, C.FORK} <= allowed_commands(phase, status)
    assert not {C.REWIND, C.FORK} & allowed_commands(Phase.NOT_STARTED, S.IDLE)


def test_a_session_refuses_what_its_phase_does_not_allow(tmp_path):
    made = []
    session = Session(lambda hooks: made.append(hooks), notify=lambda _n: None)
    assert session.phase is Phase.NOT_STARTED
    assert not session.pause() and not session.resume() and not session.stop()
    assert not session.approve() and not session.send("   ")
    assert made == []  # nothing was started by any of it


# --- with the engine -------------------------------------------------------------------------


class Watched:
    """A session on a plain thread, with the notices it sent."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.notices: list[n.Notice] = []
        session._notify_fn = self.notices.append
        self.thread = threading.Thread(target=session.serve, daemon=True)
        self.thread.start()

    def of(self, kind: type) -> list:
        return [x for x in list(self.notices) if isinstance(x, kind)]

    def wait_status(self, status: AgentStatus, timeout: float = 60.0) -> None:
        wait_until(
            lambda: self.session.status is status and self.session.phase is Phase.OPEN,
            timeout,
            what=f"{status} (now {self.session.status}, {self.session.phase})",
        )

    def container_state(self, client: docker.DockerClient) -> str:
        conversation = self.session.conversation
        assert conversation is not None
        return client.containers.get(conversation.workspace.container.id).status


@pytest.fixture
def sessions(llm_server, sandbox_image, tmp_path):
    from sandbox import DockerWorkspace

    made: list[Watched] = []

    def make(conversation_id: str | None = None) -> Watched:
        factory = conversation_factory(
            make_agent(llm_server),
            workspace=None if conversation_id else DockerWorkspace(sandbox_image),
            persistence_dir=tmp_path,
        )
        watched = Watched(
            Session(
                factory, notify=print, conversation_id=conversation_id, persistence_dir=tmp_path
            )
        )
        made.append(watched)
        return watched

    yield make
    for watched in made:
        if watched.session.phase is Phase.CLOSED:
            continue
        if watched.session.conversation is not None:
            watched.session.conversation.interrupt()
        watched.session.delete()
        watched.thread.join(60)


def _by_task(request: RecordedRequest) -> Reply:
    """Each conversation's task says what to do; the scripted model follows it."""
    first = request.user_texts()[0]
    results = request.tool_results()
    if "correction" in " ".join(request.user_texts()) and results:
        return Reply.say("Corrected and done.")
    if first.startswith("slow") and not results:
        return Reply.call("bash", command="for i in $(seq 1 16); do echo $i; sleep 0.25; done")
    if first.startswith("quick") and not results:
        return Reply.call("bash", command="echo quick > /workspace/quick.txt")
    return Reply.say("Done.")


def test_send_pause_correct_resume_through_a_session(llm_server, sessions):
    llm_server.script = _by_task
    a = sessions()
    assert a.session.send("slow: count to sixteen")
    wait_until(lambda: a.of(n.OutputWaiting), 60, what="live output")
    assert a.session.pause()
    a.wait_status(AgentStatus.PAUSED)
    assert a.session.send("a correction while paused")
    wait_until(lambda: a.session.queued_count == 1, what="the correction queued")
    assert a.session.resume()
    a.wait_status(AgentStatus.FINISHED)

    last = llm_server.requests[-1]
    assert last.user_texts() == ["slow: count to sixteen", "a correction while paused"]
    assert "16" in last.tool_results()[-1]  # the command carried on where it stood
    assert a.session.queued_count == 0
    assert [x.status for x in a.of(n.RunEnded)] == [AgentStatus.PAUSED, AgentStatus.FINISHED]
    assert a.of(n.Opened) and not a.of(n.Opened)[0].reopened
    assert any(x.frozen for x in a.of(n.ContainerChanged))
    assert not a.of(n.ContainerChanged)[-1].frozen


def test_resume_given_as_a_paused_message_lands_runs_once(llm_server, sessions):
    """Resume the moment a message sent while paused is on disk (as `berth run` does):
    one resumed run answers it, and no second run follows for a message already answered
    (the run's end and the recorder's own ask-for-a-run both check that one is unseen)."""
    from agent.events import MessageEvent

    llm_server.script = _by_task
    a = sessions()
    correction = "a correction while paused"

    def resume_once_recorded(notice: n.Notice) -> None:
        a.notices.append(notice)
        event = getattr(notice, "event", None)
        if isinstance(event, MessageEvent) and event.text == correction:
            a.session.resume()  # on the recorder's thread, before it asks for a run itself

    a.session._notify_fn = resume_once_recorded
    assert a.session.send("slow: count to sixteen")
    wait_until(lambda: a.of(n.OutputWaiting), 60, what="live output")
    assert a.session.pause()
    a.wait_status(AgentStatus.PAUSED)
    assert a.session.send(correction)
    a.wait_status(AgentStatus.FINISHED)
    a.session.close()  # after whatever the loop still had queued
    a.thread.join(60)

    assert [x.status for x in a.of(n.RunEnded)] == [AgentStatus.PAUSED, AgentStatus.FINISHED]
    assert llm_server.requests[-1].user_texts() == ["slow: count to sixteen", correction]


def test_two_sessions_at_once_each_in_its_own_container(llm_server, sessions, docker_client):
    llm_server.script = _by_task
    a, b = sessions(), sessions()
    a.session.send("slow: count to sixteen")
    b.session.send("slow: count to sixteen too")
    wait_until(lambda: a.of(n.OutputWaiting) and b.of(n.OutputWaiting), 60, what="both run")
    b.session.pause()
    b.wait_status(AgentStatus.PAUSED)

    assert a.session.conversation.workspace.container.id != (
        b.session.conversation.workspace.container.id
    )
    assert (a.container_state(docker_client), b.container_state(docker_client)) == (
        "running",
        "paused",
    )
    a.wait_status(AgentStatus.FINISHED)
    assert b.session.status is AgentStatus.PAUSED
    assert b.container_state(docker_client) == "paused"  # A's end left B alone
    b.session.resume()
    b.wait_status(AgentStatus.FINISHED)
    assert b.container_state(docker_client) == "running"


def _finished_and_closed(llm_server, sessions) -> str:
    """A conversation that wrote a file, finished and was closed: its id."""
    llm_server.script = _by_task
    a = sessions()
    a.session.send("quick: write a file")
    a.wait_status(AgentStatus.FINISHED)
    a.session.close()
    a.thread.join(60)
    assert not a.thread.is_alive() and a.of(n.Closed)
    return a.session.conversation_id


def test_reopening_through_a_session_shows_the_saved_conversation(llm_server, sessions):
    conversation_id = _finished_and_closed(llm_server, sessions)
    again = sessions(conversation_id)
    assert again.session.start()
    wait_until(lambda: again.of(n.Opened), 60, what="reopened")
    assert again.of(n.Opened)[0].reopened
    assert again.session.status is AgentStatus.FINISHED
    workspace = again.session.conversation.workspace
    assert workspace.read_bytes("/workspace/quick.txt") == b"quick\n"


def test_a_start_without_the_engine_keeps_the_message_for_the_retry(llm_server, sessions):
    llm_server.script = _by_task
    with docker_host(closed_port_docker_host()):
        a = sessions()
        a.session.send("quick: write a file")
        wait_until(lambda: a.of(n.StartFailed), 60, what="the start to fail")
    failed = a.of(n.StartFailed)[0]
    assert failed.reason is n.StartFailure.ENGINE_UNREACHABLE
    assert a.session.phase is Phase.NOT_STARTED
    assert a.session.start()  # the engine is back
    a.wait_status(AgentStatus.FINISHED)
    assert llm_server.requests[0].user_texts() == ["quick: write a file"]


def test_delete_with_the_engine_away_removes_the_container_when_it_is_back(
    llm_server, sessions, docker_client, tmp_path
):
    conversation_id = _finished_and_closed(llm_server, sessions)
    by_label = {"label": f"{labels.CONVERSATION}={conversation_id}"}
    assert docker_client.containers.list(all=True, filters=by_label)

    with docker_host(closed_port_docker_host()):
        assert delete_saved(conversation_id, tmp_path) is True  # pending: the engine is away
        assert remove_pending(tmp_path) == []
    assert not (tmp_path / conversation_id).exists()
    assert pending_removals(tmp_path) == [conversation_id]
    assert docker_client.containers.list(all=True, filters=by_label)  # not yet

    assert remove_pending(tmp_path) == [conversation_id]
    assert docker_client.containers.list(all=True, filters=by_label) == []
    assert labels.volume_name(conversation_id) not in [v.name for v in docker_client.volumes.list()]
    assert pending_removals(tmp_path) == []


def test_deleting_an_unopened_session_never_starts_its_container(
    llm_server, sessions, docker_client, tmp_path
):
    conversation_id = _finished_and_closed(llm_server, sessions)
    by_label = {"label": f"{labels.CONVERSATION}={conversation_id}"}
    assert [c.status for c in docker_client.containers.list(all=True, filters=by_label)] == [
        "exited"
    ]

    saved = sessions(conversation_id)
    assert saved.session.delete()
    wait_until(lambda: saved.of(n.Deleted), 60, what="deleted")
    assert saved.session.conversation is None  # never opened, so never started
    assert docker_client.containers.list(all=True, filters=by_label) == []
    assert not (tmp_path / conversation_id).exists()


def test_a_fork_asked_mid_run_pauses_the_run_and_names_the_fork(llm_server, sessions):
    from agent.conversation.deletion import delete_saved

    llm_server.script = _by_task
    a = sessions()
    assert a.session.send("slow: count to sixteen")
    wait_until(lambda: a.of(n.OutputWaiting), 60, what="live output")
    conversation = a.session.conversation
    assert conversation is not None
    first = conversation.checkpoints[0].id
    assert a.session.fork(first)
    forked = wait_until(lambda: a.of(n.Forked), 60, what="the fork")
    a.wait_status(AgentStatus.PAUSED)  # the run was paused for it, and stays so
    fork_id = forked[0].conversation_id
    assert fork_id != conversation.id
    root = conversation.persistence_path.parent
    assert (root / fork_id).is_dir()  # saved beside it, to be opened by id
    delete_saved(fork_id, root)
    # Resume (with tool calls waiting, Resume would approve them) carries the run on.
    assert a.session.resume()
    a.wait_status(AgentStatus.FINISHED)


def test_a_close_asked_while_starting_keeps_the_held_message_and_runs_nothing(
    llm_server, sandbox_image, tmp_path
):
    import json

    from agent.conversation.persistence import EVENTS_FILE
    from sandbox import DockerWorkspace

    llm_server.script = _by_task
    gate = threading.Event()
    inner = conversation_factory(
        make_agent(llm_server), workspace=DockerWorkspace(sandbox_image), persistence_dir=tmp_path
    )

    def slow_start(hooks):  # the container takes its time, as a first image build does
        gate.wait(60)
        return inner(hooks)

    watched = Watched(Session(slow_start, notify=print, persistence_dir=tmp_path))
    assert watched.session.send("quick: write a file")
    wait_until(lambda: watched.session.phase is Phase.STARTING, 30, what="the start")
    assert watched.session.close()
    gate.set()
    watched.thread.join(60)
    assert not watched.thread.is_alive() and watched.of(n.Closed)
    assert not llm_server.requests  # no run started only to be paused at once
    conversation_id = watched.session.conversation_id
    assert conversation_id is not None
    lines = (tmp_path / conversation_id / EVENTS_FILE).read_text().splitlines()
    said = [e["text"] for e in map(json.loads, lines) if e.get("kind") == "message"]
    assert said == ["quick: write a file"]  # kept: it reaches the model on the next run
    delete_saved(conversation_id, tmp_path)
