"""`berth run TASK` in a terminal: events as they come; Ctrl+C pauses and offers a menu."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.agent.helpers import wait_until
from tests.support.fixtures import TEST_API_KEY
from tests.support.llm_server import RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[2]


def start_berth_run(llm_server, sandbox_image, *args: str) -> tuple[subprocess.Popen, list[str]]:
    env = {
        **os.environ,
        "LLM_MODEL": llm_server.model,
        "LLM_BASE_URL": llm_server.base_url,
        "LLM_API_KEY": TEST_API_KEY,
        "BERTH_SANDBOX_IMAGE": sandbox_image,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gui.cli", "run", *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def test_berth_run_prints_the_work(llm_server, sandbox_image, tmp_path):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command="echo from-the-cli > /workspace/cli.txt")
        return Reply.say("Wrote cli.txt.")

    llm_server.script = script
    process, lines = start_berth_run(
        llm_server, sandbox_image, "Write a file", "--workspace", str(tmp_path)
    )
    assert process.wait(120) == 0, "".join(lines)
    output = "".join(lines)
    assert "[you] Write a file" in output
    assert "$ echo from-the-cli > /workspace/cli.txt" in output
    assert "[agent] Wrote cli.txt." in output
    assert (tmp_path / "cli.txt").read_text() == "from-the-cli\n"


def test_ctrl_c_pauses_and_a_message_goes_in(llm_server, sandbox_image, tmp_path):
    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command="sleep 3; echo slept")
        return Reply.say(f"Got: {request.last_user_text()}")

    llm_server.script = script
    process, lines = start_berth_run(
        llm_server, sandbox_image, "Sleep", "--workspace", str(tmp_path)
    )
    try:
        wait_until(lambda: any("$ sleep 3" in line for line in lines), 120, "the command")
        process.send_signal(signal.SIGINT)
        wait_until(lambda: any("paused" in line for line in lines), 30, "the pause")
        assert process.stdin is not None
        process.stdin.write("m\nplease stop now\n")
        process.stdin.flush()
        assert process.wait(60) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines)
    assert "[agent] Got: please stop now" in output
    assert "slept" in output  # the paused command finished after the resume


def test_a_failed_checkpoint_prints_as_a_warning_and_checkpoints_stay_quiet():
    import io

    from agent.cli import EventPrinter
    from agent.events import CheckpointEvent, CheckpointFailedEvent

    out = io.StringIO()
    printer = EventPrinter(out)
    printer(CheckpointEvent(checkpoint_id="c", step=1, tree="t"))
    printer(CheckpointFailedEvent(step=2, message="Checkpoint 2 could not be taken: no engine"))
    assert out.getvalue() == (
        "! warning: Checkpoint 2 could not be taken: no engine (the run goes on)\n"
    )
