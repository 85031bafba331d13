"""The bash tool in a real container: output, exit code, cwd, input, C-c and timeouts."""

from __future__ import annotations

import time

import pytest

from agent.tools import BashTool

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def bash() -> BashTool:
    # A short silence limit keeps the tests quick; the behaviour is the same at 30 s.
    return BashTool(no_output_timeout=2)


def test_output_exit_code_and_cwd(workspace, bash) -> None:
    chunks: list[str] = []
    result = bash.run(
        {"command": "mkdir -p /tmp/t && cd /tmp/t && echo hello && ls /nowhere"},
        workspace,
        on_output=chunks.append,
    )
    assert not result.is_error
    assert result.exit_code == 2
    assert result.cwd == "/tmp/t"
    assert "hello" in result.content and "No such file or directory" in result.content
    assert result.content.endswith("[exit code 2, cwd /tmp/t]")
    assert "hello" in "".join(chunks)  # live output reached the callback


def test_the_shell_persists_between_calls(workspace, bash) -> None:
    bash.run({"command": "cd /etc && export GREETING=hi"}, workspace)
    result = bash.run({"command": 'echo "$GREETING from $(pwd)"'}, workspace)
    assert result.content.startswith("hi from /etc")
    assert result.exit_code == 0 and result.cwd == "/etc"


def test_no_output_timeout_returns_and_the_command_keeps_running(workspace, bash) -> None:
    first = bash.run({"command": "echo started; sleep 4; echo finished"}, workspace)
    assert first.still_running and first.exit_code is None
    assert "started" in first.content
    assert 'is_input=true and command ""' in first.content and "C-c" in first.content
    waited = bash.run({"command": "", "is_input": True, "timeout": 30}, workspace)
    assert "finished" in waited.content
    assert waited.exit_code == 0 and not waited.still_running


def test_c_c_interrupts_a_running_sleep(workspace, bash) -> None:
    started = bash.run({"command": "sleep 100"}, workspace)
    assert started.still_running
    stopped = bash.run({"command": "C-c", "is_input": True}, workspace)
    assert not stopped.still_running
    assert stopped.exit_code == 130
    after = bash.run({"command": "echo alive"}, workspace)
    assert after.content.startswith("alive") and after.exit_code == 0


def test_input_reaches_a_waiting_process(workspace, bash) -> None:
    asked = bash.run({"command": 'read -r -p "name? " name; echo "hi $name"'}, workspace)
    assert asked.still_running
    answered = bash.run({"command": "Berth", "is_input": True}, workspace)
    assert "hi Berth" in answered.content and answered.exit_code == 0


def test_ctrl_spellings_models_use_are_understood(workspace, bash) -> None:
    assert bash.run({"command": "sleep 100"}, workspace).still_running
    stopped = bash.run({"command": "ctrl+c", "is_input": True}, workspace)
    assert stopped.exit_code == 130


def test_hard_timeout_kills_the_command(workspace, bash) -> None:
    result = bash.run({"command": "sleep 60", "timeout": 1}, workspace)
    assert result.ended == "timeout"
    assert "timeout after 1 s" in result.content
    assert bash.run({"command": "echo next"}, workspace).exit_code == 0


def test_long_output_is_cut_with_a_note(workspace, bash) -> None:
    result = bash.run({"command": "seq 1 100000"}, workspace)
    assert result.exit_code == 0
    assert len(result.content) < 40_000
    assert result.content.startswith("1\n2\n") and "100000" in result.content
    assert "head, tail or grep" in result.content


def test_input_with_nothing_running_is_an_error_that_says_why(workspace, bash) -> None:
    result = bash.run({"command": "yes", "is_input": True}, workspace)
    assert result.is_error
    assert "No command is running" in result.content and "is_input=false" in result.content


def test_a_new_command_while_one_runs_is_refused_with_guidance(workspace, bash) -> None:
    assert bash.run({"command": "sleep 100"}, workspace).still_running
    refused = bash.run({"command": "echo hi"}, workspace)
    assert refused.is_error and "still running" in refused.content and "C-c" in refused.content
    assert bash.run({"command": "C-c", "is_input": True}, workspace).exit_code == 130


def test_waiting_on_a_command_that_already_ended_says_so(workspace, bash) -> None:
    assert bash.run({"command": "sleep 3; echo done", "timeout": None}, workspace).still_running
    time.sleep(4)  # the command ends while nobody waits on it
    waited = bash.run({"command": "", "is_input": True}, workspace)
    assert not waited.still_running
    # Either the shell kept the finished command's result, or the model is told it ended.
    if waited.is_error:
        assert "has finished" in waited.content and "No command is running" not in waited.content
    else:
        assert "done" in waited.content and waited.exit_code == 0
