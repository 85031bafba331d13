"""The rules of a conversation's life a front end shows (agent/session/rules.py), and the
pending actions a session's status notice carries so that no front end reads them from
the conversation's state under the engine's lock."""

from __future__ import annotations

import threading

import pytest

from agent.events import ActionEvent, InterruptEvent, PauseEvent, ResumeEvent
from agent.session import Session, conversation_factory
from agent.session import notices as n
from agent.session.commands import Command, Phase, allowed_commands
from agent.session.rules import SendOutcome, is_at_work, send_outcome, status_implied_by
from agent.status import AgentStatus
from tests.agent.helpers import make_agent, wait_until
from tests.support.llm_server import RecordedRequest, Reply

S = AgentStatus


def test_every_status_has_a_send_outcome_that_matches_what_send_does() -> None:
    assert send_outcome(S.IDLE, starting=True) is SendOutcome.HELD_UNTIL_STARTED
    assert send_outcome(S.RUNNING, starting=False) is SendOutcome.NEXT_STEP
    assert send_outcome(S.PAUSED, starting=False) is SendOutcome.WAITS_FOR_RESUME
    waiting = send_outcome(S.WAITING_FOR_CONFIRMATION, starting=False)
    assert waiting is SendOutcome.WAITS_FOR_APPROVAL
    assert send_outcome(S.IDLE, starting=False) is SendOutcome.STARTS_A_RUN
    assert send_outcome(S.FINISHED, starting=False) is SendOutcome.STARTS_A_RUN
    assert send_outcome(S.ERROR, starting=False) is SendOutcome.TRIES_AGAIN
    assert send_outcome(S.STUCK, starting=False) is SendOutcome.TRIES_AGAIN
    # Wherever the outcome says a message gets somewhere, the session accepts one.
    for status in S:
        assert Command.SEND in allowed_commands(Phase.OPEN, status)


def test_at_work_means_a_run_in_progress_and_never_a_closed_conversation() -> None:
    assert is_at_work(Phase.RUNNING, S.PAUSED)  # the run is still returning
    assert is_at_work(Phase.OPEN, S.RUNNING)  # asked to run, the loop not there yet
    assert not is_at_work(Phase.CLOSED, S.RUNNING)
    for status in (S.PAUSED, S.FINISHED, S.WAITING_FOR_CONFIRMATION, S.ERROR, S.IDLE):
        assert not is_at_work(Phase.OPEN, status)
    assert not is_at_work(Phase.STARTING, S.IDLE)
    assert not is_at_work(Phase.NOT_STARTED, S.IDLE)


def test_pause_stop_and_resume_events_imply_their_status() -> None:
    assert status_implied_by(PauseEvent().kind) is S.PAUSED
    assert status_implied_by(InterruptEvent().kind) is S.PAUSED
    assert status_implied_by(ResumeEvent().kind) is S.RUNNING
    assert status_implied_by("message") is None


@pytest.fixture
def confirming(llm_server, sandbox_image, tmp_path):
    from sandbox import DockerWorkspace

    notices: list[n.Notice] = []
    factory = conversation_factory(
        make_agent(llm_server),
        workspace=DockerWorkspace(sandbox_image),
        persistence_dir=tmp_path,
        confirmation_mode=True,
    )
    session = Session(factory, notify=notices.append, persistence_dir=tmp_path)
    thread = threading.Thread(target=session.serve, daemon=True)
    thread.start()
    yield session, notices
    if session.conversation is not None:
        session.conversation.interrupt()
    session.delete()
    thread.join(60)


def test_the_status_notice_carries_the_actions_awaiting_approval(llm_server, confirming):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command="echo approved > /workspace/a.txt")
        return Reply.say("Done.")

    llm_server.script = script
    session, notices = confirming

    def statuses() -> list[n.StatusChanged]:
        return [x for x in list(notices) if isinstance(x, n.StatusChanged)]

    assert session.send("Write a file")
    waiting = wait_until(
        lambda: [x for x in statuses() if x.status is S.WAITING_FOR_CONFIRMATION],
        90,
        what="the wait for approval",
    )
    pending = waiting[0].pending_actions
    assert [type(a) for a in pending] == [ActionEvent]
    assert "echo approved" in pending[0].arguments["command"]

    wait_until(lambda: Command.APPROVE in session.allowed(), 30, what="approval allowed")
    assert session.approve()
    wait_until(lambda: statuses()[-1].status is S.FINISHED, 60, what="the finished run")
    # Every other status says nothing is pending (the bar hides on them).
    others = [x for x in statuses() if x.status is not S.WAITING_FOR_CONFIRMATION]
    assert {x.status for x in others} >= {S.RUNNING, S.FINISHED}
    assert all(not x.pending_actions for x in others)
