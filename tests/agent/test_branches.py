"""Rewinds and the model's view of the history (no Docker: events only)."""

from __future__ import annotations

from agent.context.branches import abandoned_ids, live_events
from agent.context.history import build_messages, pending_actions
from agent.events import MessageEvent, RewindEvent
from tests.agent.test_history import action, observation


def rewind(to: str | None, step: int) -> RewindEvent:
    return RewindEvent(rewind_id=f"r{step}", checkpoint_id=f"c{step}", step=step, to_event_id=to)


def test_a_rewound_call_never_reaches_the_model_and_the_rewind_does():
    ask = MessageEvent(role="user", text="fix it")
    kept, kept_result = action("a", command="echo keep"), observation("a")
    lost = action("b", response="r2", command="rm -rf /workspace/src")
    lost_result = observation("b")
    events = [ask, kept, kept_result, lost, lost_result, rewind(kept_result.id, 1)]

    messages = build_messages("SYS", events)
    text = str(messages)
    assert "echo keep" in text and "rm -rf" not in text
    assert (
        messages[-1]["role"] == "user"
        and "rewound /workspace to checkpoint step 1" in (messages[-1]["content"])
    )
    assert abandoned_ids(events) == {lost.id, lost_result.id}


def test_rewinds_stack_and_a_rewind_forward_brings_back_that_branch():
    ask = MessageEvent(role="user", text="go")
    one, one_result = action("a", command="echo one"), observation("a")
    two, two_result = action("b", response="r2", command="echo two"), observation("b")
    back_to_start = rewind(ask.id, 0)
    again = MessageEvent(role="user", text="try another way")
    forward = rewind(one_result.id, 1)  # to step 1 of the branch the first rewind left
    events = [ask, one, one_result, two, two_result, back_to_start, again, forward]

    live = [e.id for e in live_events(events)]
    assert live == [ask.id, one.id, one_result.id, forward.id]
    assert abandoned_ids(events) == {two.id, two_result.id, back_to_start.id, again.id}


def test_calls_of_a_reply_after_the_checkpoint_are_pending_until_answered():
    ask = MessageEvent(role="user", text="go")
    first = action("a", command="echo 1")
    second = action("b", command="echo 2")  # same reply (response r1)
    first_result, second_result = observation("a"), observation("b")
    events = [ask, first, second, first_result, second_result, rewind(first_result.id, 1)]
    assert pending_actions(events) == [second]
