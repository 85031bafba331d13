"""Prompt caching: the prefix a provider caches stays byte-identical from one request to
the next, and Claude models get cache breakpoints on it (litellm passes them through)."""

from __future__ import annotations

import json

from agent.context.window import ContextWindow
from agent.events import ActionEvent, CondensationEvent, MessageEvent, ObservationEvent
from agent.llm import LLM
from agent.llm.prompt_cache import mark_cache_breakpoints, wants_cache_control


def step(number: int) -> list:
    call = f"call_{number}"
    return [
        ActionEvent(tool_call_id=call, tool_name="bash", arguments={"command": f"echo {number}"}),
        ObservationEvent(tool_call_id=call, tool_name="bash", content=f"{number}\n", exit_code=0),
    ]


def condensed_story() -> tuple[ContextWindow, list]:
    """Three steps, the first two condensed: the window and the events."""
    context = ContextWindow(LLM(model="openai/berth-scripted", context_window=8000))
    events = [MessageEvent(role="user", text="Do the steps."), *step(1), *step(2), *step(3)]
    condensed = CondensationEvent(
        summary="Ran steps 1 and 2.",
        first_event_id=events[1].id,
        last_event_id=events[4].id,
        first_step=1,
        last_step=2,
    )
    return context, [*events, condensed]


def test_the_head_stays_byte_identical_between_requests():
    context, events = condensed_story()
    first = context.build("You are careful.", events).messages
    events += [*step(4), MessageEvent(role="user", text="Also step 5.")]
    second = context.build("You are careful.", events).messages

    dump = [json.dumps(m, sort_keys=True) for m in first]
    assert [json.dumps(m, sort_keys=True) for m in second[: len(first)]] == dump
    roles = [m["role"] for m in first]
    assert roles[:3] == ["system", "user", "user"]  # system, first message, summary
    assert "Ran steps 1 and 2." in first[2]["content"] and "Steps 1-2" in first[2]["content"]
    assert "echo 1" not in json.dumps(first)  # the condensed steps are not sent


def test_claude_gets_breakpoints_on_the_head_and_the_newest_message():
    assert wants_cache_control("anthropic/claude-sonnet-4-5")
    assert wants_cache_control("bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0")
    assert not wants_cache_control("openai/gpt-4o")  # OpenAI caches prefixes by itself
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "task"},
        {"role": "user", "content": "summary"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]},
        {"role": "tool", "tool_call_id": "c", "content": "out"},
    ]
    marked = mark_cache_breakpoints(messages)

    def is_marked(message: dict) -> bool:
        content = message["content"]
        return isinstance(content, list) and content[-1].get("cache_control") == {
            "type": "ephemeral"
        }

    assert [is_marked(m) if m["content"] else False for m in marked] == [
        True,
        False,
        True,
        False,
        True,
    ]
    assert messages[0]["content"] == "sys"  # the caller's messages are left alone


def test_a_rewind_past_a_condensation_leaves_its_summary_behind():
    from agent.events import RewindEvent

    context, events = condensed_story()
    events += step(4)
    kept = context.build(
        "sys",
        [*events, RewindEvent(rewind_id="r", checkpoint_id="c", step=4, to_event_id=events[-1].id)],
    )
    back = context.build(
        "sys",
        [*events, RewindEvent(rewind_id="r", checkpoint_id="c", step=1, to_event_id=events[2].id)],
    )

    kept_text = json.dumps(kept.messages)
    assert "Ran steps 1 and 2." in kept_text and "echo 4" in kept_text and "rewound" in kept_text
    back_text = json.dumps(back.messages)
    assert "Ran steps 1 and 2." not in back_text  # its steps are partly abandoned
    assert "echo 1" in back_text and "echo 2" not in back_text and "echo 4" not in back_text
    assert [m["role"] for m in back.messages] == ["system", "user", "assistant", "tool", "user"]
