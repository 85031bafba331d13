"""A model server that asks to wait, answers oddly, or echoes the key back in its error.

Through a real HTTP round trip and litellm: Retry-After is honoured (within the cap), odd
bodies give one clear sentence (never an IndexError), and no 8-character piece of the key
reaches events.jsonl, state.json or the log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent import AgentStatus, Conversation
from agent.events import AgentErrorEvent
from agent.llm import LLMError
from tests.agent.helpers import make_agent, make_conversation
from tests.support.fixtures import make_llm
from tests.support.llm_server import Reply, ScriptedLLMServer

SECRET = "sk-proj-Zq81xLmP0vRt5wYh2KcN"  # shares no 8 characters with anything else stored
MESSAGES = [{"role": "user", "content": "hi"}]


def _retry_waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage().rsplit(" in ", 1)[1] for r in caplog.records if "retry" in r.getMessage()
    ]


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({"Retry-After": "0.3"}, "0.30s"),
        ({"retry-after-ms": "250"}, "0.25s"),
        ({"Retry-After": "3600"}, "0.50s"),
    ],
    ids=["seconds", "milliseconds", "capped"],
)
def test_retry_after_is_honoured_within_the_cap(
    llm_server: ScriptedLLMServer, caplog, headers: dict[str, str], said: str
) -> None:
    llm = make_llm(llm_server, retry_after_cap=0.5)  # backoff alone would wait 0.01 s
    body = json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}).encode()
    llm_server.answer_next(1, 429, body, headers)
    with caplog.at_level(logging.INFO, logger="agent.llm"):
        response = llm.completion(MESSAGES)
    assert response.content == "Done." and response.attempts == 2
    assert _retry_waits(caplog) == [said]


ODD = {
    "empty-choices": (200, {"id": "x", "object": "chat.completion", "created": 1, "choices": []}),
    "no-choices": (200, {"id": "x", "object": "chat.completion", "created": 1}),
    "html-page": (200, b"<html><body><form>Sign in</form></body></html>"),
    "empty-body": (200, b""),
}


@pytest.mark.parametrize("case", list(ODD))
def test_odd_bodies_give_one_clear_sentence(
    llm_server: ScriptedLLMServer, make_ws, tmp_path: Path, case: str
) -> None:
    status, payload = ODD[case]
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    kind = "text/html" if case == "html-page" else "application/json"
    llm_server.answer_next(10, status, body, content_type=kind)
    conversation = make_conversation(llm_server, make_ws(), tmp_path)
    conversation.agent.llm.num_retries = 1
    conversation.send_message("hello")

    assert conversation.run() == AgentStatus.ERROR

    (error,) = [e for e in conversation.state.events if isinstance(e, AgentErrorEvent)]
    expected = {
        "empty-choices": "answered without any choices",
        "no-choices": "answered without any choices",
        "html-page": "answered with a web page (HTML)",
        "empty-body": "sent an empty or unreadable reply",
    }[case]
    assert expected in error.message and llm_server.base_url in error.message
    assert "IndexError" not in error.message and "litellm" not in error.message
    assert error.message.count(". ") <= 1  # one sentence after "The model request failed"


def _pieces(secret: str, size: int = 8) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def test_no_piece_of_the_key_is_stored_or_logged(
    llm_server: ScriptedLLMServer, make_ws, tmp_path: Path, caplog
) -> None:
    echoed = f"Incorrect API key provided: {SECRET[:12]}****{SECRET[-9:]}."
    body = json.dumps({"error": {"message": echoed, "type": "invalid_request_error"}}).encode()
    llm_server.answer_next(1, 401, body)
    agent = make_agent(llm_server, api_key=SecretStr(SECRET))
    conversation = Conversation(agent, workspace=make_ws(), persistence_dir=tmp_path)
    conversation.send_message("hello")
    logging.getLogger("agent.llm").addHandler(caplog.handler)  # a handler the app would have
    try:
        with caplog.at_level(logging.DEBUG):
            assert conversation.run() == AgentStatus.ERROR
            logging.getLogger("agent.llm").warning("provider said: %s", echoed)
    finally:
        logging.getLogger("agent.llm").removeHandler(caplog.handler)

    (error,) = [e for e in conversation.state.events if isinstance(e, AgentErrorEvent)]
    # Said in plain words (agent/llm/errors.py); the provider's own text, with its echo of
    # the key, is not what the user reads.
    assert "refused the API key (401)" in error.message
    stored = "".join(p.read_text() for p in conversation.persistence_path.iterdir())
    logged = caplog.text
    for piece in _pieces(SECRET):
        assert piece not in stored and piece not in error.message and piece not in logged


def test_an_llm_error_without_the_key_is_left_alone(llm_server: ScriptedLLMServer) -> None:
    llm_server.answer_next(1, 400, json.dumps({"error": {"message": "bad model"}}).encode())
    with pytest.raises(LLMError, match="bad model"):
        make_llm(llm_server).completion(MESSAGES)
    llm_server.script = lambda _r: Reply.say("fine")
