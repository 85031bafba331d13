"""`berth run TASK` in a terminal: events as they come; Ctrl+C pauses and offers a menu."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
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
    partial: list[str] = []  # the line being printed (streamed text has no end yet)
    process.partial = partial  # type: ignore[attr-defined]

    def read() -> None:
        assert process.stdout is not None
        while character := process.stdout.read(1):
            partial.append(character)
            if character == "\n":
                lines.append("".join(partial))
                partial.clear()

    threading.Thread(target=read, daemon=True).start()
    return process, lines


def bash_then_say(command: str, say: Callable[[RecordedRequest], str]):
    """A model script: run ``command``, then answer with ``say(request)``."""

    def script(request: RecordedRequest) -> Reply:
        if not request.tool_results():
            return Reply.call("bash", command=command)
        return Reply.say(say(request))

    return script


def test_berth_run_prints_the_work(llm_server, sandbox_image, tmp_path):
    llm_server.script = bash_then_say(
        "echo from-the-cli > /workspace/cli.txt", lambda _request: "Wrote cli.txt."
    )
    process, lines = start_berth_run(
        llm_server, sandbox_image, "Write a file", "--workspace", str(tmp_path)
    )
    assert process.wait(120) == 0, "".join(lines)
    output = "".join(lines)
    assert "[you] Write a file" in output
    assert "$ echo from-the-cli > /workspace/cli.txt" in output
    assert "[agent] Wrote cli.txt." in output
    assert (tmp_path / "cli.txt").read_text() == "from-the-cli\n"


def pause_and_answer(llm_server, sandbox_image, workspace: Path, command: str, keys: str) -> str:
    """``berth run Sleep`` on a folder: Ctrl+C once the agent runs ``command``, then
    ``keys`` typed at the menu. The output, once it exited with 0."""
    process, lines = start_berth_run(
        llm_server, sandbox_image, "Sleep", "--workspace", str(workspace)
    )
    try:
        wait_until(lambda: any(f"$ {command}" in line for line in lines), 120, "the command")
        process.send_signal(signal.SIGINT)
        wait_until(lambda: any("paused" in line for line in lines), 30, "the pause")
        assert process.stdin is not None
        process.stdin.write(keys)
        process.stdin.flush()
        assert process.wait(60) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
    return "".join(lines)


def test_ctrl_c_pauses_and_a_message_goes_in(llm_server, sandbox_image, tmp_path):
    llm_server.script = bash_then_say(
        "sleep 3; echo slept", lambda request: f"Got: {request.last_user_text()}"
    )
    output = pause_and_answer(
        llm_server, sandbox_image, tmp_path, "sleep 3", "m\nplease stop now\n"
    )
    assert "[agent] Got: please stop now" in output
    assert "slept" in output  # the paused command finished after the resume


def test_ctrl_c_then_resume_finishes_the_run(llm_server, sandbox_image, tmp_path):
    llm_server.script = bash_then_say(
        "sleep 2; echo slept > /workspace/slept.txt", lambda _request: "Done sleeping."
    )
    output = pause_and_answer(llm_server, sandbox_image, tmp_path, "sleep 2", "r\n")
    assert output.index("‖ paused") < output.index("▶ resumed") < output.index("[finished]")
    assert "[agent] Done sleeping." in output
    assert (tmp_path / "slept.txt").read_text() == "slept\n"  # the frozen command went on
    assert llm_server.requests[-1].user_texts() == ["Sleep"]  # Resume sent no message


def test_a_missing_image_says_so_and_exits_non_zero(llm_server, sandbox_image):
    process, lines = start_berth_run(
        llm_server, sandbox_image, "Anything", "--image", "berth-test-no-such:image"
    )
    assert process.wait(60) == 1, "".join(lines)
    output = "".join(lines)
    assert "! The image 'berth-test-no-such:image' is not available" in output
    assert "Traceback" not in output
    assert llm_server.requests == []


def test_a_failed_checkpoint_prints_as_a_warning_and_checkpoints_stay_quiet():
    import io

    from agent.cli.main import EventPrinter
    from agent.events import CheckpointEvent, CheckpointFailedEvent

    out = io.StringIO()
    printer = EventPrinter(out)
    printer(CheckpointEvent(checkpoint_id="c", step=1, tree="t"))
    printer(CheckpointFailedEvent(step=2, message="Checkpoint 2 could not be taken: no engine"))
    assert out.getvalue() == (
        "! warning: Checkpoint 2 could not be taken: no engine (the run goes on)\n"
    )


def test_the_terminal_says_where_steps_were_summarised():
    import io

    from agent.cli.main import EventPrinter
    from agent.events import CondensationEvent, ContextFileEvent

    printer = EventPrinter(io.StringIO())
    condensed = CondensationEvent(
        summary="s", first_event_id="a", last_event_id="b", first_step=3, last_step=41
    )
    assert printer.format(condensed) == "≡ steps 3-41 summarised (context window)"
    read = ContextFileEvent(path="/workspace/AGENTS.md", text="t", size=1, truncated=False)
    assert printer.format(read) == "≡ read /workspace/AGENTS.md"


def test_berth_run_prints_the_answer_as_it_streams(llm_server, sandbox_image, tmp_path):
    answer = "Streaming to the terminal, piece by piece. " * 6
    llm_server.script = lambda _r: Reply.say(answer, reasoning="Let me think.", stream_pace=0.05)
    process, lines = start_berth_run(
        llm_server, sandbox_image, "Say something", "--workspace", str(tmp_path)
    )
    try:
        # Streamed text has no line end yet: read what came so far, character by character.
        wait_until(lambda: llm_server.requests, 120, "the request")
        partial = wait_until(
            lambda: "Streaming to the" in "".join(lines) + _pending(process), 60, "streamed text"
        )
        assert partial
        assert not llm_server.requests[0].answered  # printed while the reply streamed
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + _pending(process)
    assert "[thinking] Let me think." in output
    assert output.count("Streaming to the terminal") == 6  # printed once, not again at the end


def _pending(process: subprocess.Popen) -> str:
    return "".join(list(process.partial))  # type: ignore[attr-defined]


def test_berth_run_on_a_repository_hands_the_work_back(llm_server, git_image, tmp_path):
    from tests.support.git_repos import git, make_repo, snapshot, worktree_and_state

    repo = make_repo(tmp_path / "project")
    before = snapshot(repo)
    llm_server.script = bash_then_say(
        "cd /workspace && echo from-the-cli > cli.txt", lambda _request: "Wrote cli.txt."
    )
    process, lines = start_berth_run(
        llm_server, git_image, "Write a file", "--repo", str(repo), "--hand-back"
    )
    assert process.wait(120) == 0, "".join(lines)
    output = "".join(lines)
    branch = git(repo, "branch", "--list", "berth/*", "--format=%(refname:short)")
    assert branch.startswith("berth/") and f"git switch {branch}" in output
    assert git(repo, "show", f"{branch}:cli.txt") == "from-the-cli"
    assert worktree_and_state(snapshot(repo)) == worktree_and_state(before)


def test_berth_run_on_a_folder_that_is_no_repository_says_so(llm_server, sandbox_image, tmp_path):
    process, lines = start_berth_run(llm_server, sandbox_image, "Do it", "--repo", str(tmp_path))
    assert process.wait(60) == 2
    assert "is not a git repository" in "".join(lines)
    assert list(tmp_path.iterdir()) == []


def test_the_terminal_says_which_mcp_servers_started():
    import io

    from agent.cli.main import EventPrinter
    from agent.events import McpServersEvent, NoticeEvent
    from agent.mcp import McpServerState, McpServerStatus, McpToolInfo

    printer = EventPrinter(io.StringIO())
    tools = [McpToolInfo(name=f"t{n}") for n in range(12)]
    git = McpServerStatus(name="git", transport="stdio", state=McpServerState.READY, tools=tools)
    error = "did not answer initialize within 60 s\nIts stderr..."
    mute = McpServerStatus(name="mute", transport="stdio", state=McpServerState.FAILED, error=error)
    assert printer.format(McpServersEvent(servers=[git, mute])) == (
        "≡ MCP: git — 12 tools\n! MCP: mute failed: did not answer initialize within 60 s"
    )
    notice = NoticeEvent(title=".mcp.json ignored", text="not JSON", source="mcp")
    assert printer.format(notice) == "! .mcp.json ignored: not JSON"
