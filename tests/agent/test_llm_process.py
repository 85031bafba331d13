"""Berth's LLM helper process, as the window uses it: the calling process never imports
litellm; a helper that dies mid-call is replaced and the call tried again; a cancel lets
go at once. Real helper processes, real HTTP to the scripted server."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.llm import LLMCancelled
from agent.llm import process as llm_process
from agent.llm.process import LLMHelper
from tests.support.fixtures import TEST_API_KEY, make_llm
from tests.support.llm_server import Reply

ROOT = Path(__file__).resolve().parents[2]
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def helper(monkeypatch):
    from agent.llm.model import _known_window

    helper = LLMHelper()
    monkeypatch.setattr(llm_process, "_helper", helper)
    _known_window.cache_clear()
    yield helper
    helper.stop()
    _known_window.cache_clear()


def test_the_calling_process_never_imports_litellm(llm_server) -> None:
    llm_server.script = lambda _r: Reply.say("Hello from the helper.")
    code = (
        "import json, sys\n"
        "from pydantic import SecretStr\n"
        "from agent.llm import LLM\n"
        "from agent.llm.process import use_helper_process\n"
        "use_helper_process()\n"
        "llm = LLM(model=sys.argv[1], base_url=sys.argv[2], api_key=SecretStr(sys.argv[3]),\n"
        "          num_retries=0)\n"
        "reply = llm.completion([{'role': 'user', 'content': 'hello'}])\n"
        "tokens = llm.count_tokens([{'role': 'user', 'content': 'hello there'}])\n"
        "print(json.dumps({'content': reply.content, 'tokens': tokens,\n"
        "                  'window': llm.effective_context_window(),\n"
        "                  'litellm': 'litellm' in sys.modules}))\n"
    )
    args = [llm_server.model, llm_server.base_url, TEST_API_KEY]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    told = json.loads(done.stdout.strip().splitlines()[-1])
    assert told["content"] == "Hello from the helper."
    assert told["litellm"] is False
    assert told["tokens"] > 0 and told["window"] > 0
    assert TEST_API_KEY in llm_server.requests[-1].headers.get("authorization", "")


def _caught_mid_request(helper, llm_server, call) -> tuple[threading.Thread, int]:
    """``call`` on a thread, held by the server until the helper's pid is returned."""
    helper.start()
    llm_server.delay = 3.0  # the first request waits long enough to be caught
    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    deadline = time.monotonic() + 60
    while not llm_server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llm_server.requests, "the helper never sent the request"
    pid = helper.pid
    assert pid is not None
    llm_server.delay = 0.0
    return caller, pid


def test_a_helper_killed_mid_call_is_replaced_and_the_call_tried_again(helper, llm_server):
    llm_server.script = lambda _r: Reply.say("Answered at last.")
    llm = make_llm(llm_server)
    got: list[object] = []
    caller, first = _caught_mid_request(
        helper, llm_server, lambda: got.append(llm.completion(HELLO))
    )
    os.kill(first, signal.SIGKILL)
    caller.join(120)
    assert not caller.is_alive()
    response = got[0]
    assert response.content == "Answered at last."  # type: ignore[attr-defined]
    assert response.attempts == 2  # type: ignore[attr-defined]
    assert helper.starts == 2 and helper.pid != first


def _freeze_and_join(caller: threading.Thread, pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    try:
        caller.join(60)
        assert not caller.is_alive(), "the call still waits on the frozen helper"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_sigstopped_helper_is_noticed_ended_and_replaced(helper, llm_server):
    """A frozen helper (SIGSTOP) answers nothing and never exits: its silence gives it away
    within the watchdog's 10 s (well inside the request's 120 s timeout)."""
    llm_server.script = lambda _r: Reply.say("Answered by the new helper.")
    llm = make_llm(llm_server)
    got: list[object] = []
    caller, frozen = _caught_mid_request(
        helper, llm_server, lambda: got.append(llm.completion(HELLO))
    )
    _freeze_and_join(caller, frozen)
    response = got[0]
    assert response.content == "Answered by the new helper."  # type: ignore[attr-defined]
    assert response.attempts == 2  # type: ignore[attr-defined]
    assert helper.starts == 2 and helper.pid != frozen
    assert not Path(f"/proc/{frozen}").exists()  # ended and reaped, not left stopped


def test_a_frozen_helpers_error_says_what_happened(helper, llm_server):
    llm_server.script = lambda _r: Reply.say("never seen")
    llm = make_llm(llm_server, num_retries=0)
    got: list[BaseException] = []

    def call() -> None:
        try:
            llm.completion(HELLO)
        except BaseException as exc:
            got.append(exc)

    _freeze_and_join(*_caught_mid_request(helper, llm_server, call))
    assert "stopped answering" in str(got[0]) and "no sign of life" in str(got[0])


def test_a_cancel_lets_go_at_once_and_the_helper_goes_on(helper, llm_server):
    llm_server.script = lambda _r: Reply.say("Done.")
    helper.start()
    llm_server.delay = 20.0
    llm = make_llm(llm_server)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(LLMCancelled):
        llm.completion(HELLO, cancel=cancel)
    llm_server.delay = 0.0
    assert llm.completion(HELLO).content == "Done."
    assert helper.starts == 1


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["/nonexistent/berth", "--llm-helper"], "could not start"),
        ([sys.executable, "-c", "import sys; sys.exit(3)"], "stopped (exit code 3)"),
    ],
    ids=["missing", "exits"],
)
def test_a_helper_that_cannot_run_is_a_clear_error_not_a_crash(
    monkeypatch, llm_server, command: list[str], said: str
) -> None:
    from agent.llm.model import LLMError, _known_window

    helper = LLMHelper(command)
    monkeypatch.setattr(llm_process, "_helper", helper)
    _known_window.cache_clear()
    llm = make_llm(llm_server)
    with pytest.raises(LLMError, match=re.escape(said)) as info:
        llm.completion(HELLO)
    assert info.value.retryable
    assert not llm_server.requests
    # Counting falls back to the request's bytes: never fewer than its tokens.
    assert llm.count_tokens(HELLO) == len(json.dumps(HELLO).encode())
    helper.stop()
    _known_window.cache_clear()
