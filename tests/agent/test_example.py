"""The seed program, ported (examples/pause_example.py), end to end: a real container on
the folder it runs in, a real HTTP model server, a pause, a correction, a resume."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.fixtures import TEST_API_KEY
from tests.support.llm_server import RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pause_example.py"
COUNTDOWN = "for i in $(seq 100 -1 1); do echo $i >> countdown.txt; sleep 0.03; done"


def script(request: RecordedRequest) -> Reply:
    corrected = any("hello.txt" in text for text in request.user_texts())
    called = [
        call["function"]["name"]
        for message in request.messages
        for call in message.get("tool_calls") or []
    ]
    if corrected:
        if "file_editor" not in called:
            return Reply.call(
                "file_editor",
                command="create",
                path="/workspace/hello.txt",
                file_text="Hello, World!",
            )
        return Reply.say("Stopped the countdown and created hello.txt.")
    if not called:
        return Reply.call("bash", command=COUNTDOWN)
    return Reply.say("Wrote the countdown.")


def test_the_pause_example_runs(llm_server, sandbox_image, tmp_path):
    llm_server.script = script
    env = {
        **os.environ,
        "LLM_MODEL": llm_server.model,
        "LLM_BASE_URL": llm_server.base_url,
        "LLM_API_KEY": TEST_API_KEY,
        "BERTH_SANDBOX_IMAGE": sandbox_image,
    }

    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Agent status after pause: paused" in done.stdout
    assert "Final status: finished" in done.stdout
    assert (tmp_path / "hello.txt").read_text().strip() == "Hello, World!"
    correction = [r for r in llm_server.requests if any("hello.txt" in t for t in r.user_texts())]
    assert correction, "the message sent while paused never reached the model"
