"""Reasoning settings reach the provider only when set: ``reasoning_effort`` for any model,
Anthropic's ``thinking`` budget for Claude models (real HTTP through litellm)."""

from __future__ import annotations

import pytest

from agent import LLMError
from tests.support.fixtures import make_llm
from tests.support.llm_server import ScriptedLLMServer

HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_reasoning_effort_is_sent_only_when_set(llm_server: ScriptedLLMServer, stream: bool):
    make_llm(llm_server, stream=stream).completion(HI)
    make_llm(llm_server, stream=stream, reasoning_effort="high").completion(HI)
    plain, effortful = llm_server.requests
    assert "reasoning_effort" not in plain.body
    assert effortful.body["reasoning_effort"] == "high"
    assert "thinking" not in effortful.body


def test_an_anthropic_model_gets_its_thinking_budget_with_room_to_answer(
    llm_server: ScriptedLLMServer,
) -> None:
    root = llm_server.base_url.removesuffix("/v1")
    for budget in (None, 2048):
        llm = make_llm(
            llm_server,
            model="anthropic/claude-sonnet-4-5",
            base_url=root,
            num_retries=0,
            thinking_budget=budget,
        )
        with pytest.raises(LLMError):  # the scripted server does not answer Anthropic's API
            llm.completion(HI)
    plain, thinking = llm_server.requests
    assert "thinking" not in plain.body
    assert thinking.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert thinking.body["max_tokens"] > 2048
