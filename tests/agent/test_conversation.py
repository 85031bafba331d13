"""The conversation engine against a real container and a real HTTP model server.

These tests share one container (engine logic does not need a fresh one); tests of
reopening and crashes, which do, are in test_reopen.py.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from agent import AgentStatus
from agent.events import (
    ActionEvent,
    AgentErrorEvent,
    InterruptEvent,
    MessageEvent,
    ObservationEvent,
    PauseEvent,
    RejectionEvent,
    ResumeEvent,
    parse_event,
)
from tests.agent.helpers import (
    actions,
    history,
    kinds,
    line_count,
    make_agent,
    make_conversation,
    observations,
    wait_until,
)
from tests.support.llm_server import RecordedRequest, Reply, replies_in_order

TICKS = "/workspace/ticks.txt"


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "conversations"


@pytest.fixture
def new_conversation(llm_server, shared_workspace, data_dir):
    made = []

    def factory(**kwargs):
        conversation = make_conversation(llm_server, shared_workspace, data_dir, **kwargs)
        made.append(conversation)
        return conversation

    yield factory
    for conversation in made:
        conversation.interrupt()  # nothing may stay running or frozen in the shared container
    shared_workspace.thaw()


def run_in_thread(conversation):
    result: list[AgentStatus] = []
    thread = threading.Thread(target=lambda: result.append(conversation.run()), daemon=True)
    thread.start()
    return thread, result


def test_a_task_runs_to_the_end_and_is_on_disk(llm_server, shared_workspace, data_dir):
    from agent import Conversation

    llm_server.script = replies_in_order(
        [Reply.call("bash", command="echo hi from the container"), Reply.say("All done.")]
    )
    agent = make_agent(llm_server, stream=True)  # the SSE path, tool call deltas included
    seen = []
    statuses = []
    conversation = Conversation(
        agent,
        workspace=shared_workspace,
        persistence_dir=data_dir,
        callbacks=[seen.append],
        on_status_change=statuses.append,
    )
    conversation.send_message("Say hi")

    assert conversation.run() == AgentStatus.FINISHED, conversation.state.events

    assert "hi from the container" in observations(conversation)[0].content
    second = llm_server.requests[1]
    assert second.last_tool_result() == observations(conversation)[0].content
    assert second.tool_names == ["bash", "file_editor", "finish"]
    final = history(conversation)[-2]
    assert isinstance(final, MessageEvent) and final.text == "All done."
    stats = conversation.state.stats
    assert (stats.llm_calls, stats.prompt_tokens, stats.completion_tokens) == (2, 22, 14)
    assert statuses == [AgentStatus.RUNNING, AgentStatus.FINISHED]
    lines = (conversation.persistence_path / "events.jsonl").read_text().splitlines()
    assert [parse_event(line) for line in lines] == conversation.state.events == seen
    assert conversation.state.title == "Say hi"


def test_the_finish_tool_ends_the_run(llm_server, new_conversation):
    llm_server.script = lambda _r: Reply.call("finish", message="Nothing to do.")
    conversation = new_conversation()
    conversation.send_message("Is there anything to do?")
    assert conversation.run() == AgentStatus.FINISHED
    assert observations(conversation)[0].content == "Nothing to do."
    # Running a finished conversation again with nothing new asks nothing.
    assert conversation.run() == AgentStatus.FINISHED
    assert len(llm_server.requests) == 1


def test_pause_while_the_model_thinks(llm_server, new_conversation):
    def script(request: RecordedRequest) -> Reply:
        if any("correction" in text for text in request.user_texts()):
            return Reply.say("Handled the correction.")
        return Reply.say("A stale answer.", delay=1.5)

    llm_server.script = script
    conversation = new_conversation()
    conversation.send_message("Think about it")
    thread, result = run_in_thread(conversation)
    first = llm_server.wait_for_requests(1)

    conversation.pause()
    thread.join(10)

    assert result == [AgentStatus.PAUSED]
    assert conversation.state.agent_status == AgentStatus.PAUSED
    assert not any(
        isinstance(e, MessageEvent) and e.role == "assistant" for e in conversation.state.events
    )
    assert kinds(conversation.state.events)[-2:] == ["pause", "status"]

    conversation.send_message("A correction while paused")
    assert conversation.run() == AgentStatus.FINISHED
    second = llm_server.requests[1]
    assert second.user_texts() == ["Think about it", "A correction while paused"]
    # The abandoned answer arrives later and is dropped.
    wait_until(lambda: first.answered, what="the abandoned reply")
    time.sleep(0.2)
    replies = [
        e.text
        for e in conversation.state.events
        if isinstance(e, MessageEvent) and e.role == "assistant"
    ]
    assert replies == ["Handled the correction."]


def test_pause_while_a_command_runs_freezes_it(llm_server, shared_workspace, new_conversation):
    shared_workspace.execute(f"rm -f {TICKS}")

    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call(
                "bash",
                command=f"for i in $(seq 1 40); do echo $i >> {TICKS}; sleep 0.05; done; "
                "echo counted",
            )
        return Reply.say("Counted to forty.")

    llm_server.script = script
    conversation = new_conversation()
    conversation.send_message("Count to forty, slowly")
    thread, result = run_in_thread(conversation)
    wait_until(lambda: line_count(shared_workspace, TICKS) >= 3, what="the count to start")

    conversation.pause()
    thread.join(10)

    assert result == [AgentStatus.PAUSED]
    shared_workspace.container.reload()
    assert shared_workspace.container.status == "paused"
    before = line_count(shared_workspace, TICKS)
    time.sleep(0.6)
    assert line_count(shared_workspace, TICKS) == before < 40  # nothing runs while frozen
    assert not observations(conversation)  # the command has no result yet

    conversation.send_message("Sent while paused")
    assert conversation.run() == AgentStatus.FINISHED

    assert line_count(shared_workspace, TICKS) == 40  # it carried on where it stood
    result_event = observations(conversation)[0]
    assert "counted" in result_event.content and result_event.exit_code == 0
    assert ResumeEvent in {type(e) for e in conversation.state.events}
    last = llm_server.requests[-1].messages
    assert [m["role"] for m in last[-3:]] == ["assistant", "tool", "user"]
    assert last[-1]["content"] == "Sent while paused"


def test_pause_between_steps(llm_server, new_conversation):
    llm_server.script = replies_in_order(
        [Reply.call("bash", command="echo step one"), Reply.say("Finished after one step.")]
    )
    conversation = new_conversation()

    def pause_after_the_first_result(event):
        if isinstance(event, ObservationEvent):
            conversation.pause()

    conversation.add_callback(pause_after_the_first_result)
    conversation.send_message("Do one step")

    assert conversation.run() == AgentStatus.PAUSED
    assert len(llm_server.requests) == 1
    assert kinds(conversation.state.events)[-3:] == ["observation", "pause", "status"]

    assert conversation.run() == AgentStatus.FINISHED
    assert len(llm_server.requests) == 2


def test_pause_before_run(llm_server, new_conversation):
    conversation = new_conversation()
    conversation.send_message("Hello")
    conversation.pause()
    conversation.pause()  # idempotent

    assert conversation.state.agent_status == AgentStatus.PAUSED
    assert kinds(conversation.state.events).count("pause") == 1
    assert llm_server.requests == []

    assert conversation.run() == AgentStatus.FINISHED  # run() resumes
    assert len(llm_server.requests) == 1


def _sleeper(marker: str) -> Callable[[RecordedRequest], Reply]:
    """Writes ``marker`` (a file in /tmp) the moment its command runs, then sleeps: a test
    waits for the file, not for a while, before it stops the command."""

    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command=f"touch /tmp/{marker}; sleep 30; echo never printed")
        return Reply.say("Stopped as you asked.")

    return script


def _wait_for_marker(workspace, marker: str) -> None:
    wait_until(
        lambda: any(e.name == marker for e in workspace.list_dir("/tmp")),
        what="the command to run",
    )


def test_interrupt_stops_the_command(llm_server, shared_workspace, new_conversation):
    marker = f"sleeping-{uuid.uuid4().hex[:8]}"
    llm_server.script = _sleeper(marker)
    conversation = new_conversation()
    conversation.send_message("Sleep a while")
    thread, result = run_in_thread(conversation)
    wait_until(lambda: actions(conversation), what="the command")
    _wait_for_marker(shared_workspace, marker)

    conversation.interrupt()
    thread.join(15)

    assert result == [AgentStatus.PAUSED]
    stopped = observations(conversation)[0]
    assert stopped.ended == "interrupted" and "never printed" not in stopped.content
    assert isinstance(history(conversation)[-2], InterruptEvent)
    assert "alive" in shared_workspace.execute("echo alive").output  # the shell survived

    assert conversation.run() == AgentStatus.FINISHED
    assert "stopped" in llm_server.requests[-1].last_tool_result().lower()


def test_interrupt_while_paused_mid_command(llm_server, shared_workspace, new_conversation):
    marker = f"sleeping-{uuid.uuid4().hex[:8]}"
    llm_server.script = _sleeper(marker)
    conversation = new_conversation()
    conversation.send_message("Sleep a while")
    thread, _ = run_in_thread(conversation)
    wait_until(lambda: actions(conversation), what="the command")
    _wait_for_marker(shared_workspace, marker)
    conversation.pause()
    thread.join(10)

    conversation.interrupt()

    assert conversation.state.agent_status == AgentStatus.PAUSED
    assert observations(conversation)[0].ended == "interrupted"
    shared_workspace.container.reload()
    assert shared_workspace.container.status == "running"  # thawed, not left frozen
    assert conversation.run() == AgentStatus.FINISHED


def test_interrupt_while_the_model_thinks(llm_server, new_conversation):
    llm_server.script = lambda _r: Reply.say("Late.", delay=1.0)
    conversation = new_conversation()
    conversation.send_message("Think")
    thread, result = run_in_thread(conversation)
    llm_server.wait_for_requests(1)
    conversation.interrupt()
    thread.join(10)
    assert result == [AgentStatus.PAUSED]
    assert kinds(conversation.state.events)[-2:] == ["interrupt", "status"]
    assert "message" not in kinds(conversation.state.events)[1:]


def test_a_message_sent_while_running_reaches_the_model(llm_server, new_conversation):
    def script(request: RecordedRequest) -> Reply:
        if len(request.user_texts()) == 1:
            return Reply.say("First answer.", delay=1.0)
        return Reply.say(f"Seen: {request.last_user_text()}")

    llm_server.script = script
    conversation = new_conversation()
    conversation.send_message("First question")
    thread, result = run_in_thread(conversation)
    llm_server.wait_for_requests(1)

    event = conversation.send_message("One more thing")

    assert event in conversation.state.events  # recorded at once
    thread.join(15)
    assert result == [AgentStatus.FINISHED]
    assert llm_server.requests[1].user_texts() == ["First question", "One more thing"]
    assert history(conversation)[-2].text == "Seen: One more thing"


def test_llm_errors_are_retried_then_reported_then_recovered(llm_server, new_conversation):
    conversation = new_conversation()
    llm_server.fail_next(1, 429)
    llm_server.fail_next(1, 500)
    conversation.send_message("Hi")
    assert conversation.run() == AgentStatus.FINISHED
    assert len(llm_server.requests) == 3  # two failures, retried

    conversation.send_message("Again")
    llm_server.fail_next(3, 500)  # the first try and both retries
    assert conversation.run() == AgentStatus.ERROR
    error = [e for e in conversation.state.events if isinstance(e, AgentErrorEvent)][-1]
    assert error.source == "llm" and error.retryable and "500" in error.message

    assert conversation.run() == AgentStatus.FINISHED  # the step is asked again
    assert llm_server.requests[-1].user_texts() == ["Hi", "Again"]


def test_bad_tool_calls_come_back_as_errors(llm_server, new_conversation):
    llm_server.script = replies_in_order(
        [
            Reply.raw_call("bash", '{"command": "ls'),
            Reply.call("teleport", destination="mars"),
            Reply.call("bash"),
            Reply.say("I give up."),
        ]
    )
    conversation = new_conversation()
    conversation.send_message("Do something")

    assert conversation.run() == AgentStatus.FINISHED

    results = [llm_server.requests[n].last_tool_result() for n in (1, 2, 3)]
    assert "not a valid JSON object" in results[0]
    assert "Unknown tool 'teleport'" in results[1] and "bash" in results[1]
    assert "command" in results[2] and "missing" in results[2]
    assert all(o.is_error for o in observations(conversation))


def test_the_same_action_four_times_is_stuck(llm_server, new_conversation):
    llm_server.script = lambda _r: Reply.call("bash", command="echo same")
    conversation = new_conversation()
    conversation.send_message("Loop")

    assert conversation.run() == AgentStatus.STUCK

    assert len(actions(conversation)) == 4
    error = [e for e in conversation.state.events if isinstance(e, AgentErrorEvent)][-1]
    assert error.source == "stuck"


def test_the_step_limit_pauses_a_run_and_resume_takes_another_batch(llm_server, new_conversation):
    counter = iter(range(1000))
    llm_server.script = lambda _r: Reply.call("bash", command=f"echo {next(counter)}")
    conversation = new_conversation(max_iterations=3)
    conversation.send_message("Count forever")

    assert conversation.run() == AgentStatus.PAUSED

    assert len(llm_server.requests) == 3
    assert conversation.state.status_detail == "Paused at the step limit (3): Resume continues"
    assert not [e for e in conversation.state.events if isinstance(e, AgentErrorEvent)]
    # Resume: three more steps, each command run and answered.
    assert conversation.run() == AgentStatus.PAUSED
    assert len(llm_server.requests) == 6
    assert len(llm_server.requests[-1].tool_results()) == 5  # every command answered


def test_confirmation_approve_and_reject(llm_server, shared_workspace, new_conversation):
    shared_workspace.execute("rm -f /workspace/approved.txt")

    def script(request: RecordedRequest) -> Reply:
        done = len(request.tool_results())
        if done == 0:
            return Reply.call("bash", command="echo yes > /workspace/approved.txt")
        if done == 1:
            return Reply.call("bash", command="rm -f /workspace/approved.txt")
        return Reply.say(f"Understood: {request.last_tool_result()}")

    llm_server.script = script
    conversation = new_conversation(confirmation_mode=True)
    conversation.send_message("Write then delete a file")

    assert conversation.run() == AgentStatus.WAITING_FOR_CONFIRMATION
    assert not shared_workspace.exists("/workspace/approved.txt")
    assert len(conversation.state.pending_actions) == 1

    assert conversation.run() == AgentStatus.WAITING_FOR_CONFIRMATION  # approved, ran
    assert shared_workspace.exists("/workspace/approved.txt")

    conversation.reject("Deleting it is too dangerous")
    assert isinstance(history(conversation)[-3], RejectionEvent)
    assert observations(conversation)[-1].ended == "rejected"
    assert conversation.run() == AgentStatus.FINISHED

    assert shared_workspace.exists("/workspace/approved.txt")
    assert "too dangerous" in llm_server.requests[-1].last_tool_result()


def test_pause_events_are_recorded_once(llm_server, new_conversation):
    llm_server.script = lambda _r: Reply.say("ok", delay=0.5)
    conversation = new_conversation()
    conversation.send_message("x")
    thread, _ = run_in_thread(conversation)
    llm_server.wait_for_requests(1)
    for _ in range(5):
        conversation.pause()
    thread.join(10)
    assert sum(isinstance(e, PauseEvent) for e in conversation.state.events) == 1
    assert not any(isinstance(e, ActionEvent) for e in conversation.state.events)


def test_a_missing_checkpoint_helper_image_is_said_once(llm_server, new_conversation, monkeypatch):
    from agent.events import CheckpointFailedEvent, NoticeEvent

    monkeypatch.setenv("BERTH_CHECKPOINT_IMAGE", "berth-test-missing-helper:does-not-exist")
    counter = iter(range(1000))
    llm_server.script = lambda r: (
        Reply.say("Done.")
        if len(r.tool_results()) >= 3
        else Reply.call("bash", command=f"echo {next(counter)}")
    )
    conversation = new_conversation()
    conversation.send_message("Three steps")
    assert conversation.run() == AgentStatus.FINISHED

    events = conversation.state.events
    notices = [e for e in events if isinstance(e, NoticeEvent) and e.source == "checkpoints"]
    assert len(notices) == 1, notices
    assert "python -m sandbox.images build-offline berth-test-missing-helper" in notices[0].text
    assert not [e for e in events if isinstance(e, CheckpointFailedEvent)]
    assert len(conversation.checkpoints) == 0
