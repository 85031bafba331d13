"""How soon a cancelled LLM call lets go: the timing bounds that used to sit in
tests/agent/test_llm.py and test_llm_process.py (the tests check that the call is
cancelled; how fast is measured here).

    make bench   (or: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s
                  -o python_files='bench_*.py' tests/bench/bench_cancel.py)
"""

from __future__ import annotations

import threading
import time

import pytest

from agent.llm import LLMCancelled
from tests.agent.test_llm_process import helper  # noqa: F401 (fixture)
from tests.support.fixtures import _llm_server_session, llm_server, make_llm  # noqa: F401
from tests.support.llm_server import Reply

HELLO = [{"role": "user", "content": "hello"}]


def _cancelled_after(llm, seconds: float) -> float:
    """Seconds from the call to its LLMCancelled, the cancel set ``seconds`` in."""
    cancel = threading.Event()
    threading.Timer(seconds, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(LLMCancelled):
        llm.completion(HELLO, cancel=cancel)
    return time.monotonic() - started


def test_cancel_between_retries(llm_server) -> None:  # noqa: F811
    llm = make_llm(llm_server, retry_min_wait=30, retry_max_wait=30)
    llm_server.fail_next(1, 429)
    took = _cancelled_after(llm, 0.5)
    print(f"\ncancel during a 30 s retry backoff: let go after {took:.2f} s")
    assert took < 20  # not the 30 s backoff


def test_cancel_through_the_helper_process(helper, llm_server) -> None:  # noqa: F811
    llm_server.script = lambda _r: Reply.say("Done.")
    helper.start()
    llm_server.delay = 20.0
    took = _cancelled_after(make_llm(llm_server), 0.5)
    llm_server.delay = 0.0
    print(f"\ncancel of a 20 s call in the helper process: let go after {took:.2f} s")
    assert took < 15  # not the 20 s the server takes
