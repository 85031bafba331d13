"""The persistent shell, as a caller sees it; each test runs on the local and the TCP engine."""

from __future__ import annotations

import threading

import pytest

from sandbox import DockerWorkspace, ShellBusyError, ShellDiedError


def run(ws: DockerWorkspace, command: str, **kw):
    return ws.execute(command, timeout=kw.pop("timeout", 60), **kw)


def test_remote_run_really_goes_over_tcp(ws: DockerWorkspace, engine):
    url = ws.client.api.base_url
    assert url.startswith("http://127.0.0.1") if engine else url.startswith("http+docker://")


def test_cd_exports_and_functions_persist(ws: DockerWorkspace):
    run(ws, "mkdir -p /tmp/state && cd /tmp/state")
    run(ws, "export BERTH_TEST_VAR='hello world'")
    run(ws, 'greet() { echo "hi $1"; }')
    result = run(ws, 'pwd; echo "$BERTH_TEST_VAR"; greet there')
    assert result.output == "/tmp/state\nhello world\nhi there\n"
    assert result.cwd == "/tmp/state"
    assert result.exit_code == 0
    assert run(ws, "cd /workspace").cwd == "/workspace"


def test_background_jobs_persist(ws: DockerWorkspace):
    started = run(ws, "sleep 300 & echo pid=$!")
    pid = started.output.split("pid=")[1].split()[0]
    listed = run(ws, "jobs -l")
    assert pid in listed.output and "sleep 300" in listed.output
    run(ws, "kill %1; wait %1")
    assert "sleep 300" not in run(ws, "jobs").output


def test_exit_codes(ws: DockerWorkspace):
    assert run(ws, "true").exit_code == 0
    assert run(ws, "false").exit_code == 1
    assert run(ws, "(exit 42)").exit_code == 42
    assert run(ws, "bash -c 'exit 7'").exit_code == 7
    failed = run(ws, "ls /no/such/dir")
    assert failed.exit_code == 2 and "No such file or directory" in failed.output
    assert run(ws, "echo 'unbalanced").exit_code != 0  # a syntax error is a result, not a hang


def test_multiline_quotes_and_long_commands(ws: DockerWorkspace):
    script = "cat <<'EOF'\nline 'one' \"two\" $HOME \\n\tTab\nEOF\necho é ü 中"
    result = run(ws, script)
    assert result.output == "line 'one' \"two\" $HOME \\n\tTab\né ü 中\n"
    long_word = "x" * 150_000  # far past the tty's 4095-byte line limit
    assert run(ws, f"echo {long_word} | wc -c").output.strip() == "150001"


def test_hard_timeout_kills_the_command_and_keeps_the_shell(ws: DockerWorkspace):
    run(ws, "cd /tmp && export KEEP=1")
    result = ws.execute("echo started; sleep 60; echo never", timeout=1)
    assert result.timed_out and not result.still_running
    assert result.exit_code == 130
    assert "started" in result.output and "never" not in result.output
    after = run(ws, "echo $KEEP; pwd")
    assert after.output == "1\n/tmp\n"


def test_hard_timeout_kills_a_command_that_ignores_sigint(ws: DockerWorkspace):
    result = ws.execute("bash -c \"trap '' INT; sleep 60\"", timeout=1)
    assert result.timed_out
    assert result.exit_code == 137  # SIGKILL of its process group
    assert run(ws, "echo alive").output == "alive\n"


def test_no_output_timeout_returns_and_the_command_carries_on(ws: DockerWorkspace):
    first = ws.execute("echo begun; sleep 2; echo finished", no_output_timeout=0.5)
    assert first.still_running and first.exit_code is None
    assert first.output == "begun\n"
    assert ws.busy
    with pytest.raises(ShellBusyError):
        ws.execute("echo another")
    rest = ws.execute("", is_input=True, timeout=30)
    assert rest.output == "finished\n" and rest.exit_code == 0
    assert not ws.busy


def test_ctrl_c_as_input(ws: DockerWorkspace):
    first = ws.execute("sleep 60", no_output_timeout=0.5)
    assert first.still_running
    stopped = ws.execute("C-c", is_input=True, timeout=30)
    assert stopped.exit_code == 130 and stopped.interrupted
    assert run(ws, "echo usable").output == "usable\n"


def test_text_input_reaches_the_running_program(ws: DockerWorkspace):
    first = ws.execute("read -r line; echo got:$line", no_output_timeout=0.5)
    assert first.still_running
    answered = ws.execute("hello there", is_input=True, timeout=30)
    assert "got:hello there" in answered.output and answered.exit_code == 0


def test_input_with_no_command_running_is_not_sent(ws: DockerWorkspace):
    result = ws.execute("stray", is_input=True)
    assert "No command is running" in result.output
    assert run(ws, "echo fine").output == "fine\n"


def test_interrupt_from_another_thread(ws: DockerWorkspace):
    timer = threading.Timer(0.5, ws.interrupt)
    timer.start()
    result = ws.execute("echo going; sleep 60; echo never", timeout=120)
    timer.join()
    assert result.interrupted and not result.timed_out
    assert result.exit_code == 130
    assert "going" in result.output and "never" not in result.output
    assert run(ws, "echo usable").output == "usable\n"


def test_long_output_is_cut_in_the_middle(ws: DockerWorkspace):
    result = run(ws, "seq 1 100000")
    assert result.truncated
    assert result.output.startswith("1\n2\n3\n")
    assert result.output.rstrip().endswith("99999\n100000")
    assert "characters cut from the middle" in result.output
    assert len(result.output) < 30_500
    assert not run(ws, "seq 1 10").truncated


def test_binary_and_invalid_utf8_output_never_raises(ws: DockerWorkspace):
    result = run(ws, r"printf 'ok \xff\xfe\xc3 end\n'; head -c 4096 /dev/urandom")
    assert result.exit_code == 0
    assert result.output.startswith("ok \ufffd\ufffd\ufffd end\n")
    assert run(ws, "printf 'caf\\xc3\\xa9\\n'").output == "café\n"


def test_live_output_arrives_in_chunks(ws: DockerWorkspace):
    chunks: list[str] = []
    result = ws.execute(
        "for i in 1 2 3; do echo tick $i; sleep 0.3; done", timeout=30, on_output=chunks.append
    )
    assert len(chunks) >= 3
    assert "".join(chunks) == result.output == "tick 1\ntick 2\ntick 3\n"


def test_time_frozen_does_not_count_toward_timeouts(ws: DockerWorkspace):
    results = []
    worker = threading.Thread(
        target=lambda: results.append(
            ws.execute("sleep 1; echo done", timeout=2, no_output_timeout=1.5)
        )
    )
    worker.start()
    threading.Event().wait(0.3)
    ws.freeze()
    try:
        threading.Event().wait(3)  # longer than both timeouts
        assert worker.is_alive()  # still waiting, not timed out, while frozen
    finally:
        ws.thaw()
    worker.join(30)
    (result,) = results
    assert result.output == "done\n"
    assert not result.timed_out and not result.still_running


def test_a_dead_shell_is_reported_then_replaced(ws: DockerWorkspace):
    run(ws, "cd /tmp")
    with pytest.raises(ShellDiedError):
        ws.execute("exit 3")
    fresh = run(ws, "pwd")
    assert fresh.output == "/workspace\n" and fresh.exit_code == 0
    run(ws, "cd /etc")
    ws.restart_shell()
    assert run(ws, "pwd").output == "/workspace\n"


def test_a_shell_started_while_frozen_waits_for_the_thaw(ws: DockerWorkspace):
    ws.freeze()
    worker = threading.Thread(target=ws.restart_shell)
    try:
        worker.start()
        worker.join(1.0)
        assert worker.is_alive()  # exec cannot start in a frozen container: it waits
    finally:
        ws.thaw()
    worker.join(30)
    assert run(ws, "echo thawed").output == "thawed\n"


def test_interrupt_racing_the_start_of_a_command(ws: DockerWorkspace):
    # C-c may reach bash before it has read the command line: the command must still end.
    for _ in range(5):
        results: list = []
        worker = threading.Thread(target=lambda out=results: out.append(ws.execute("sleep 30")))
        worker.start()
        while worker.is_alive():
            ws.interrupt()
            worker.join(0.001)
        assert results[0].interrupted
        assert run(ws, "echo ok").output.endswith("ok\n")


def test_output_printed_before_the_wait_begins_reaches_the_callback(ws: DockerWorkspace):
    """The window between sending a command and waiting for it, held open on purpose:
    the command has printed (and even ended) before the caller starts to wait."""
    run(ws, "true")  # the shell is open
    shell = ws._shell
    assert shell is not None
    send = shell._send

    def send_and_let_the_command_end(data: bytes) -> None:
        send(data)
        with shell._cond:
            shell._cond.wait_for(lambda: shell._done is not None or shell._eof, timeout=30)

    shell._send = send_and_let_the_command_end  # type: ignore[method-assign]
    try:
        chunks: list[str] = []
        result = ws.execute("echo first line; echo second", timeout=30, on_output=chunks.append)
    finally:
        del shell._send
    assert "".join(chunks) == result.output == "first line\nsecond\n"
