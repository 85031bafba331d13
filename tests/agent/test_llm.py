"""The LLM against a real HTTP server through litellm: replies, tool calls, retries. Each
test runs twice: litellm in this process (the SDK, ``berth run``) and in Berth's LLM helper
process (the window: agent/llm_process.py)."""

from __future__ import annotations

import threading

import pytest

from agent.llm import LLMCancelled, LLMError
from tests.support.fixtures import TEST_API_KEY, make_llm
from tests.support.llm_server import Reply, ToolCall

BASH = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "run a command",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def _helper():
    from agent.llm.process import LLMHelper

    helper = LLMHelper()
    yield helper
    helper.stop()


@pytest.fixture(autouse=True, params=["here", "helper"])
def route(request, monkeypatch):
    """Where litellm runs for this test."""
    from agent.llm import process as llm_process
    from agent.llm.model import _known_window

    _known_window.cache_clear()
    if request.param == "helper":
        monkeypatch.setattr(llm_process, "_helper", request.getfixturevalue("_helper"))
    yield request.param
    _known_window.cache_clear()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_calls_and_usage_come_back(llm_server, stream):
    llm_server.script = lambda _r: Reply.calls(
        ToolCall("bash", {"command": "ls -la /workspace"}),
        ToolCall("bash", {"command": "pwd"}),
        thought="Looking around.",
    )
    llm = make_llm(llm_server, stream=stream)

    response = llm.completion(HELLO, [BASH])

    assert response.content == "Looking around."
    assert [c.name for c in response.tool_calls] == ["bash", "bash"]
    assert response.tool_calls[0].arguments == '{"command": "ls -la /workspace"}'
    assert response.usage.prompt_tokens == 11
    assert response.usage.completion_tokens == 7
    assert response.usage.latency_s > 0
    request = llm_server.requests[-1]
    assert request.stream is stream
    assert request.tool_names == ["bash"]
    assert request.headers["authorization"] == f"Bearer {TEST_API_KEY}"


def test_text_reply(scripted_llm, llm_server):
    llm_server.script = lambda r: Reply.say(f"you said {r.last_user_text()}")
    response = scripted_llm.completion(HELLO)
    assert response.content == "you said hello"
    assert response.tool_calls == []


@pytest.mark.parametrize("status", [429, 500])
def test_retries_then_succeeds(scripted_llm, llm_server, status):
    llm_server.fail_next(2, status)
    response = scripted_llm.completion(HELLO)
    assert response.content == "Done."
    assert response.attempts == 3
    assert len(llm_server.requests) == 3


def test_gives_up_after_the_retries(scripted_llm, llm_server):
    llm_server.fail_next(3, 500)  # the first try and the 2 retries
    with pytest.raises(LLMError) as info:
        scripted_llm.completion(HELLO)
    assert info.value.retryable
    assert "after 3 attempts" in str(info.value)
    assert len(llm_server.requests) == 3


def test_client_errors_are_not_retried(scripted_llm, llm_server):
    llm_server.fail_next(1, 400)
    with pytest.raises(LLMError) as info:
        scripted_llm.completion(HELLO)
    assert not info.value.retryable
    assert len(llm_server.requests) == 1


def test_cancel_between_retries(llm_server):
    llm = make_llm(llm_server, retry_min_wait=30, retry_max_wait=30)
    llm_server.fail_next(1, 429)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(LLMCancelled):
        llm.completion(HELLO, cancel=cancel)


def test_key_is_never_in_a_dump(scripted_llm):
    assert TEST_API_KEY not in scripted_llm.model_dump_json()
    assert TEST_API_KEY not in repr(scripted_llm)
    assert "api_key" not in scripted_llm.model_dump()


def test_defaults_from_the_environment(monkeypatch):
    from agent import LLM

    monkeypatch.setenv("LLM_MODEL", "openai/from-env")
    monkeypatch.setenv("LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LLM_API_KEY", "sk-env")
    llm = LLM()
    assert llm.model == "openai/from-env"
    assert llm.base_url == "http://127.0.0.1:9/v1"
    assert llm.api_key is not None and llm.api_key.get_secret_value() == "sk-env"


def test_cost_of_a_model_litellm_knows(llm_server):
    llm = make_llm(llm_server, model="openai/gpt-4o")
    response = llm.completion(HELLO)
    assert response.usage.cost > 0
    assert make_llm(llm_server).completion(HELLO).usage.cost == 0  # unknown: no price


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_cached_tokens_are_counted_and_priced_as_the_provider_prices_them(llm_server, stream):
    llm = make_llm(llm_server, model="openai/gpt-4o-mini", stream=stream)
    llm_server.script = lambda _r: Reply.say("ok", prompt_tokens=10_000, completion_tokens=100)
    uncached = llm.completion(HELLO).usage
    llm_server.script = lambda _r: Reply.say(
        "ok", prompt_tokens=10_000, completion_tokens=100, cached_tokens=8_000
    )
    cached = llm.completion(HELLO).usage

    assert cached.cached_tokens == 8_000 and uncached.cached_tokens == 0
    # gpt-4o-mini: $0.15 per million input tokens, half that when read from the cache.
    assert cached.cost == pytest.approx(uncached.cost - 8_000 * 0.075e-6)


def test_a_context_length_refusal_is_told_apart(llm_server):
    llm_server.window_chars = 3
    with pytest.raises(LLMError) as raised:
        make_llm(llm_server).completion(HELLO)

    error = raised.value
    assert error.context_exceeded and not error.retryable
    assert len(llm_server.requests) == 1  # not retried as it is
    assert error.provider_window == 0 and error.provider_tokens == 1  # as the server said
