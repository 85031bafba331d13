"""pytest fixtures around the scripted LLM server; import them in a conftest.py:

from tests.support.fixtures import llm_server, scripted_llm  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from tests.support.llm_server import Reply, ScriptedLLMServer

# What tests use as the key: tests look for it in every file Berth writes.
TEST_API_KEY = "sk-berth-test-key-4f1c9a7e"


@pytest.fixture(scope="session")
def _llm_server_session() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(lambda _r: Reply.say("Done.")) as server:
        yield server


@pytest.fixture
def llm_server(_llm_server_session: ScriptedLLMServer) -> Iterator[ScriptedLLMServer]:
    """A running scripted server, reset for each test (set ``.script`` to choose replies)."""
    _llm_server_session.reset(lambda _r: Reply.say("Done."))
    yield _llm_server_session
    _llm_server_session.reset()


def make_llm(server: ScriptedLLMServer, **overrides):
    """An LLM pointed at the server, with fast retries."""
    from agent import LLM

    settings = {
        "model": server.model,
        "base_url": server.base_url,
        "api_key": SecretStr(TEST_API_KEY),
        "retry_min_wait": 0.01,
        "retry_max_wait": 0.05,
        "num_retries": 2,
        "timeout": 30.0,
    }
    settings.update(overrides)
    return LLM(**settings)


@pytest.fixture
def scripted_llm(llm_server: ScriptedLLMServer):
    """An ``agent.LLM`` talking to ``llm_server``."""
    return make_llm(llm_server)
