"""A streamed reply: token callbacks see it grow, events keep it whole (with the model's
reasoning), a pause mid-stream leaves nothing of it, usage still counts; in process and
through the LLM helper process, real HTTP through litellm to the scripted server."""

from __future__ import annotations

import json
import threading
import time

import pytest

from agent import Conversation
from agent.events import ActionEvent, MessageEvent, ObservationEvent
from agent.llm.process import LLMHelper
from agent.llm.stream import StreamDelta
from agent.session import notices as n
from agent.session.session import Session, conversation_factory
from agent.status import AgentStatus
from tests.agent.helpers import make_agent, wait_until
from tests.support.fixtures import make_llm
from tests.support.llm_server import RecordedRequest, Reply, ToolCall

# Long enough (some 2 s at the test's pace) that what a process loads at its first reply
# (litellm's tokenizers, 0.5-1 s) cannot hide whether the pieces came as they were written.
ANSWER = " ".join(["The answer streams in small pieces, as a real model writes it."] * 6)
REASONING = "First I think about the question, then I answer."


class Collected:
    """Token callback: every delta, and whether the server had finished when it came."""

    def __init__(self, server) -> None:
        self.server = server
        self.deltas: list[StreamDelta] = []
        self.before_reply_ended: list[StreamDelta] = []
        self.lock = threading.Lock()

    def __call__(self, delta: StreamDelta) -> None:
        requests = self.server.requests
        with self.lock:
            self.deltas.append(delta)
            if requests and not requests[-1].answered:
                self.before_reply_ended.append(delta)

    def text(self, field: str) -> str:
        with self.lock:
            return "".join(getattr(d, field) for d in self.deltas)


@pytest.fixture
def helper():
    helper = LLMHelper()
    yield helper
    helper.stop()


@pytest.mark.parametrize("through_helper", [False, True], ids=["in-process", "helper"])
def test_streamed_reply_reaches_the_callback_piece_by_piece(
    llm_server, helper, monkeypatch, through_helper
):
    from agent.llm import process

    if through_helper:
        monkeypatch.setattr(process, "_helper", helper)
    llm_server.script = lambda _r: Reply.say(
        ANSWER, reasoning=REASONING, stream_pace=0.02, prompt_tokens=1000, completion_tokens=50
    )
    llm_server.model_name = "gpt-4o"  # a model litellm prices: the cost must come out
    llm = make_llm(llm_server, stream=True)
    collected = Collected(llm_server)
    response = llm.completion([{"role": "user", "content": "hi"}], on_delta=collected)

    assert collected.text("reasoning_content") == REASONING
    assert collected.text("content") == ANSWER
    # Pieces, not the whole: most came while the server was still writing the reply.
    assert len(collected.deltas) > 10
    assert len(collected.before_reply_ended) > 5
    first_content = next(i for i, d in enumerate(collected.deltas) if d.content)
    assert all(d.reasoning_content for d in collected.deltas[:first_content])
    assert response.content == ANSWER and response.reasoning_content == REASONING
    assert llm_server.requests[-1].body["stream_options"] == {"include_usage": True}
    assert response.usage.prompt_tokens == 1000 and response.usage.completion_tokens == 50
    assert response.usage.cost > 0


def test_tool_call_arguments_stream_in_pieces(llm_server):
    calls = [
        ToolCall(
            "file_editor",
            {"command": "create", "path": "/workspace/app.py", "file_text": "print(1)\n" * 5},
        ),
        ToolCall("bash", {"command": "python3 /workspace/app.py"}),
    ]
    llm_server.script = lambda _r: Reply.calls(*calls, stream_pace=0.005)
    collected = Collected(llm_server)
    response = make_llm(llm_server, stream=True).completion(
        [{"role": "user", "content": "hi"}], on_delta=collected
    )
    pieces = [d for d in collected.deltas if d.tool_call_index == 0 and d.tool_call_arguments]
    assert len(pieces) > 3
    assert "".join(p.tool_call_arguments for p in pieces) == calls[0].arguments_text()
    named = {(d.tool_call_index, d.tool_name) for d in collected.deltas if d.tool_name}
    assert named == {(0, "file_editor"), (1, "bash")}
    assert [c.name for c in response.tool_calls] == ["file_editor", "bash"]
    assert json.loads(response.tool_calls[1].arguments) == {"command": "python3 /workspace/app.py"}


def _conversation(llm_server, shared_workspace, tmp_path, **kwargs) -> Conversation:
    agent = make_agent(llm_server, stream=True)
    return Conversation(agent, workspace=shared_workspace, persistence_dir=tmp_path, **kwargs)


def test_token_callbacks_see_deltas_and_the_log_keeps_the_whole_reply(
    llm_server, shared_workspace, tmp_path
):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            # Several calls in one reply, streamed: they run in order, each with its result.
            return Reply.calls(
                ToolCall("bash", {"command": "echo one > /workspace/order.txt"}),
                ToolCall("bash", {"command": "echo two >> /workspace/order.txt"}),
                thought="Two steps.",
                reasoning="Write, then append.",
                stream_pace=0.005,
            )
        return Reply.say(ANSWER, reasoning=REASONING, stream_pace=0.005)

    llm_server.script = script
    collected = Collected(llm_server)
    later: list[StreamDelta] = []
    conversation = _conversation(
        llm_server, shared_workspace, tmp_path, token_callbacks=[collected]
    )
    conversation.add_token_callback(later.append)
    conversation.send_message("Write order.txt")
    assert conversation.run() == AgentStatus.FINISHED

    assert collected.text("content") == "Two steps." + ANSWER
    assert collected.text("reasoning_content") == "Write, then append." + REASONING
    assert later == collected.deltas
    events = conversation.state.events
    actions = [e for e in events if isinstance(e, ActionEvent)]
    results = [e for e in events if isinstance(e, ObservationEvent)]
    assert actions[0].arguments["command"].startswith("echo one")
    assert [r.tool_call_id for r in results] == [a.tool_call_id for a in actions]
    assert actions[0].reasoning_content == "Write, then append."
    assert actions[1].reasoning_content is None
    assert shared_workspace.execute("cat /workspace/order.txt").output.split() == ["one", "two"]
    answer = [e for e in events if isinstance(e, MessageEvent) and e.role == "assistant"][-1]
    assert answer.text == ANSWER and answer.reasoning_content == REASONING
    # events.jsonl: the whole reply, never a delta.
    log = (conversation.persistence_path / "events.jsonl").read_text()
    kinds = {json.loads(line)["kind"] for line in log.splitlines()}
    assert "delta" not in log and "stream" not in " ".join(kinds)
    assert REASONING in log and log.count(ANSWER) == 1
    conversation.interrupt()


def test_pause_mid_stream_closes_it_and_resume_asks_again(llm_server, shared_workspace, tmp_path):
    slow = "word " * 200  # 250 pieces, 40 ms apart: ten seconds of streaming
    answers = iter([Reply.say(slow, reasoning=REASONING, stream_pace=0.04), Reply.say("Done.")])
    llm_server.script = lambda _r: next(answers)
    collected = Collected(llm_server)
    conversation = _conversation(
        llm_server, shared_workspace, tmp_path, token_callbacks=[collected]
    )
    conversation.send_message("Say a lot")
    outcome: list[AgentStatus] = []
    runner = threading.Thread(target=lambda: outcome.append(conversation.run()))
    runner.start()
    wait_until(lambda: "word word" in collected.text("content"), what="the answer streaming")
    asked = time.monotonic()
    conversation.pause()
    runner.join(5)
    assert outcome == [AgentStatus.PAUSED]
    print(f"pause mid-stream -> run() returned in {(time.monotonic() - asked) * 1000:.0f} ms")
    first = llm_server.requests[0]
    wait_until(lambda: not runner.is_alive())
    # The stream was closed: the server could not write the rest of it.
    time.sleep(0.5)
    assert not first.answered
    assert not any(
        isinstance(e, MessageEvent) and e.role == "assistant" for e in conversation.state.events
    )
    seen = len(collected.deltas)
    time.sleep(0.3)
    assert len(collected.deltas) == seen  # nothing of the abandoned reply after the pause

    assert conversation.run() == AgentStatus.FINISHED
    assert len(llm_server.requests) == 2
    assert llm_server.requests[1].user_texts() == ["Say a lot"]
    texts = [e.text for e in conversation.state.events if isinstance(e, MessageEvent)]
    assert texts == ["Say a lot", "Done."]
    conversation.interrupt()


def test_a_message_sent_is_not_queued_while_the_model_answers(
    llm_server, shared_workspace, tmp_path
):
    llm_server.script = lambda _r: Reply.say("Slow answer " * 20, stream_pace=0.05)
    notices: list[n.Notice] = []
    agent = make_agent(llm_server, stream=True)
    factory = conversation_factory(agent, workspace=shared_workspace, persistence_dir=tmp_path)
    session = Session(factory, notify=notices.append)
    thread = threading.Thread(target=session.serve, daemon=True)
    thread.start()
    try:
        session.send("Answer slowly")
        asked = wait_until(lambda: [x for x in notices if isinstance(x, n.ModelAsked)])
        assert asked[0].request_event_count >= 1
        # The model has the message and is still answering: it is no longer queued. (The
        # notice goes out as the request does: it may reach the server a moment later.)
        wait_until(lambda: llm_server.requests)
        assert not llm_server.requests[-1].answered
        assert session.queued_count == 0
        queued = [x.count for x in notices if isinstance(x, n.QueuedChanged)]
        assert queued[-1] == 0
        wait_until(lambda: any(isinstance(x, n.StreamWaiting) for x in notices))
        taken = session.take_stream()
        assert taken.request_event_count == asked[0].request_event_count
        assert taken.deltas and len(taken.deltas) <= 2  # joined, not one per token
        wait_until(lambda: any(isinstance(x, n.RunEnded) for x in notices), timeout=60)
    finally:
        session.close()
        thread.join(30)
