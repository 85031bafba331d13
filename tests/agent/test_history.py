"""Events to LLM messages: always a valid request, whatever order events came in."""

from __future__ import annotations

from agent.context.history import MISSING_RESULT, build_messages, pending_actions
from agent.conversation.stuck import is_stuck
from agent.events import ActionEvent, MessageEvent, ObservationEvent, StatusEvent
from agent.status import AgentStatus


def action(call_id: str, response: str = "r1", command: str = "ls", **kw) -> ActionEvent:
    return ActionEvent(
        tool_call_id=call_id,
        tool_name="bash",
        arguments={"command": command},
        response_id=response,
        **kw,
    )


def observation(call_id: str, content: str = "ok") -> ObservationEvent:
    return ObservationEvent(tool_call_id=call_id, tool_name="bash", content=content)


def roles(messages):
    return [m["role"] for m in messages]


def test_a_simple_exchange():
    events = [
        MessageEvent(role="user", text="hi"),
        action("a", thought="Let me look."),
        observation("a", "file.txt"),
        StatusEvent(status=AgentStatus.RUNNING),
        MessageEvent(role="assistant", text="Done."),
    ]
    messages = build_messages("SYS", events)
    assert roles(messages) == ["system", "user", "assistant", "tool", "assistant"]
    assert messages[2]["content"] == "Let me look."
    assert messages[2]["tool_calls"][0]["function"] == {
        "name": "bash",
        "arguments": '{"command": "ls"}',
    }
    assert messages[3] == {"role": "tool", "tool_call_id": "a", "content": "file.txt"}


def test_parallel_calls_share_one_assistant_message():
    events = [
        MessageEvent(role="user", text="hi"),
        action("a"),
        action("b"),
        observation("a"),
        observation("b"),
    ]
    messages = build_messages("SYS", events)
    assert roles(messages) == ["system", "user", "assistant", "tool", "tool"]
    assert [c["id"] for c in messages[2]["tool_calls"]] == ["a", "b"]


def test_a_message_sent_during_a_command_follows_its_result():
    events = [
        MessageEvent(role="user", text="count"),
        action("a"),
        MessageEvent(role="user", text="actually, stop"),
        observation("a"),
    ]
    messages = build_messages("SYS", events)
    assert roles(messages) == ["system", "user", "assistant", "tool", "user"]
    assert messages[-1]["content"] == "actually, stop"


def test_a_call_without_result_still_gets_one():
    events = [MessageEvent(role="user", text="x"), action("a"), action("b", response="r2")]
    messages = build_messages("SYS", events)
    assert roles(messages) == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert messages[3]["content"] == MISSING_RESULT
    assert pending_actions(events) == events[1:]


def test_malformed_arguments_are_sent_back_as_they_were():
    raw = ActionEvent(tool_call_id="a", tool_name="bash", raw_arguments="{oops", response_id="r")
    messages = build_messages("SYS", [raw, observation("a", "error")])
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == "{oops"


def test_stuck_after_four_identical_rounds():
    events = [MessageEvent(role="user", text="go")]
    for n in range(3):
        events += [action(f"c{n}", response=f"r{n}"), observation(f"c{n}", "same")]
    assert not is_stuck(events)
    events += [action("c3", response="r3"), observation("c3", "same")]
    assert is_stuck(events)


def test_not_stuck_when_results_differ_or_the_user_spoke():
    events = [MessageEvent(role="user", text="go")]
    for n in range(4):
        events += [action(f"c{n}", response=f"r{n}"), observation(f"c{n}", f"out {n}")]
    assert not is_stuck(events)
    same = []
    for n in range(2):
        same += [action(f"s{n}", response=f"q{n}"), observation(f"s{n}", "same")]
    later = [action(f"t{n}", response=f"t{n}") for n in range(2)]
    events = [*same, MessageEvent(role="user", text="hint"), *same, *later]
    assert not is_stuck(events)
