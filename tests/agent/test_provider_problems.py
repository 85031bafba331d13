"""A provider's failure in plain words (agent/llm/errors.py), through litellm over real HTTP
to the scripted server: a wrong key, an unknown model, a server that is down, no quota.
In this process and through the LLM helper process, as the window calls it."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr

from agent.llm import LLMError
from agent.llm.errors import ProblemKind
from tests.agent.test_llm_process import helper  # noqa: F401 (fixture)
from tests.support.fixtures import TEST_API_KEY, _llm_server_session, llm_server, make_llm  # noqa: F401
from tests.support.llm_server import QUOTA_BODY, ScriptedLLMServer

HELLO = [{"role": "user", "content": "hello"}]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _failure(llm) -> LLMError:
    with pytest.raises(LLMError) as caught:
        llm.completion(HELLO)
    return caught.value


@pytest.fixture(params=["here", "helper"])
def where(request, llm_server: ScriptedLLMServer) -> str:  # noqa: F811
    if request.param == "helper":
        request.getfixturevalue("helper").start()
    return str(request.param)


def test_a_wrong_key_reads_plainly(llm_server, where) -> None:  # noqa: F811
    llm_server.required_key = TEST_API_KEY
    error = _failure(make_llm(llm_server, api_key=SecretStr("sk-wrong-key-1234")))
    assert str(error) == (
        "The model's server refused the API key (401). Check the key in Settings."
    )
    assert error.problem is not None and error.problem.kind is ProblemKind.AUTH
    assert error.problem.hint == "Fix the key in Settings, then Resume."
    assert not error.retryable
    assert "platform.openai.com" not in str(error) and "AuthenticationError" not in str(error)
    assert len(llm_server.requests) == 1  # a refused key is not asked again


def test_an_unknown_model_reads_plainly(llm_server, where) -> None:  # noqa: F811
    llm_server.models = ["other-model"]
    error = _failure(make_llm(llm_server, model="openai/no-such-model"))
    assert error.problem is not None and error.problem.kind is ProblemKind.MODEL_NOT_FOUND
    assert "does not know the model “no-such-model” (404)" in str(error)
    assert "NotFoundError" not in str(error)
    assert error.problem.in_settings


def test_a_server_that_is_down_reads_plainly(where) -> None:
    from agent import LLM

    url = f"http://127.0.0.1:{_closed_port()}/v1"
    llm = LLM(model="openai/x", base_url=url, api_key=SecretStr("k"), num_retries=0)
    error = _failure(llm)
    assert error.problem is not None and error.problem.kind is ProblemKind.UNREACHABLE
    assert str(error).startswith(f"Nothing answered at {url} (connection refused).")
    assert "base URL in Settings" in str(error)


def test_a_used_up_quota_reads_plainly_and_is_not_retried(llm_server, where) -> None:  # noqa: F811
    llm_server.answer_next(1, 429, QUOTA_BODY)
    error = _failure(make_llm(llm_server, num_retries=3))
    assert error.problem is not None and error.problem.kind is ProblemKind.QUOTA
    assert "quota is used up (429)" in str(error)
    assert len(llm_server.requests) == 1  # waiting brings no credit back
