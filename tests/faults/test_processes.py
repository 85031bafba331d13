"""What the agent's processes can do to the shell: background jobs, fork bombs, memory, and
shells left behind by an app that was killed.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from sandbox import DockerWorkspace, SandboxError
from sandbox.oom import human_memory
from tests.agent.helpers import wait_until


def _count(ws: DockerWorkspace, pattern: str) -> int:
    """Processes whose command line starts with ``pattern`` (bash only: no procps)."""
    script = (
        "n=0; for p in /proc/[0-9]*; do [ $p = /proc/$$ ] && continue; a=(); "
        "while IFS= read -r -d '' x; do a+=(\"$x\"); done < $p/cmdline 2>/dev/null; "
        f'case "${{a[*]}}" in "{pattern}"*) n=$((n+1));; esac; done; echo $n'
    )
    # An exec of its own: the shell may be busy with the command under test.
    return int(ws.container.exec_run(["bash", "-c", script]).output.split()[-1])


def _try(ws: DockerWorkspace, command: str) -> str:
    for _ in range(3):
        try:
            return ws.execute(command, timeout=30).output
        except SandboxError as exc:  # the shell was killed: the next call gets a fresh one
            last = str(exc)
    return last


def _quietly(ws: DockerWorkspace, command: str) -> None:
    """Run a command the test abandons: its end (the container removed) is no failure."""
    with contextlib.suppress(Exception):
        ws.execute(command, timeout=120)


def test_stop_ends_the_command_and_the_background_jobs_it_started(make_ws) -> None:
    ws = make_ws()
    ws.start()
    ws.execute("sleep 1001 &", timeout=30)  # an earlier job: not this command's
    worker = threading.Thread(
        target=lambda: ws.execute("sleep 1002 & sleep 1003 & (sleep 1004 &); sleep 1005")
    )
    worker.start()
    wait_until(lambda: _count(ws, "sleep 1005") == 1, what="the command to start")

    ws.interrupt()
    worker.join(15)

    assert not worker.is_alive()
    assert [_count(ws, f"sleep {n}") for n in (1002, 1003, 1005)] == [0, 0, 0]
    assert _count(ws, "sleep 1001") == 1  # a job of an earlier command runs on
    assert ws.execute("echo usable", timeout=30).output == "usable\n"


def test_the_shell_is_usable_again_after_a_fork_bomb(make_ws) -> None:
    ws = make_ws(pids_limit=128)
    ws.start()
    ws.execute(":(){ :|:& };:", timeout=30)  # returns at once: the bomb runs in the background
    time.sleep(1.0)
    first = ws.execute("ls /", timeout=60)  # the limit is full: fork fails, then Berth cleans
    assert "ran out of processes (its limit is 128)" in first.output
    again = ws.execute("echo usable; ls / | wc -l", timeout=30)  # dying bombs may still print
    assert "usable\n" in again.output and again.exit_code == 0


def _pids(ws: DockerWorkspace) -> int:
    """How many processes the container holds, as the engine counts them."""
    stats = ws.container.stats(stream=False, one_shot=True)
    return int(stats.get("pids_stats", {}).get("current", 0))


def test_stop_during_a_fork_bomb_in_the_foreground(make_ws) -> None:
    ws = make_ws(pids_limit=128)
    ws.start()
    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(ws.execute("bash -c ':(){ :|:& };:'; sleep 600"))
    )
    worker.start()
    # Stopped once the bomb fills the container's process table, not after a while.
    wait_until(lambda: _pids(ws) >= 100, 60, what="the fork bomb to fill the pids limit")
    ws.interrupt()
    worker.join(30)
    assert not worker.is_alive()
    # Commands work again (in a fresh shell if the old one had to be killed).
    assert result and "usable" in _try(ws, "echo usable")


def test_an_oom_kill_is_named(make_ws) -> None:
    ws = make_ws(memory="64m")
    ws.start()
    result = ws.execute("head -c 300m /dev/zero | tail > /dev/null", timeout=60)
    assert result.out_of_memory
    assert "the command ran out of memory (64 MiB" in result.output
    plain = ws.execute("bash -c 'kill -9 $$'", timeout=30)  # killed, not for memory
    assert plain.exit_code == 137
    assert not plain.out_of_memory


@pytest.mark.parametrize(
    ("limit", "said"), [("2g", "2 GiB"), ("512m", "512 MiB"), ("1.5g", "1.5 GiB")]
)
def test_memory_limits_read_as_people_say_them(limit: str, said: str) -> None:
    assert human_memory(limit) == said


def test_reattaching_ends_the_shells_a_killed_app_left(make_ws, sandbox_image) -> None:
    ws = make_ws()
    ws.start()
    threading.Thread(target=_quietly, args=(ws, "sleep 1006"), daemon=True).start()
    wait_until(lambda: _count(ws, "sleep 1006") == 1, what="the command to start")
    # The app is killed: nothing closes its shell. Another app reattaches to the container.
    again = DockerWorkspace(sandbox_image, conversation_id=ws.conversation_id)
    again.start()
    try:
        assert _count(again, "sleep 1006") == 0
        assert _count(again, "bash --noediting --noprofile --norc -i") == 1  # its own only
        assert _count(again, "bash --norc --noprofile -c") == 1  # and its own warden
    finally:
        again._drop_shell()


def test_stop_ends_a_setsid_daemon_the_command_started(make_ws) -> None:
    ws = make_ws()
    ws.start()
    ws.execute("setsid -f sleep 2001", timeout=30)  # an earlier command's daemon: it stays
    writer = "setsid -f bash -c 'while :; do echo x >> /tmp/daemon.log; sleep 0.05; done'"
    worker = threading.Thread(target=_quietly, args=(ws, f"{writer}; sleep 2002"))
    worker.start()
    wait_until(lambda: _count(ws, "sleep 2002") == 1, what="the command to start")

    ws.interrupt()
    worker.join(15)

    size = "stat -c %s /tmp/daemon.log"
    first = ws.container.exec_run(["bash", "-c", size]).output
    time.sleep(1)  # not a timing assert: a live writer adds ~20 lines in this second
    assert ws.container.exec_run(["bash", "-c", size]).output == first
    assert _count(ws, "bash -c while") == 0
    assert _count(ws, "sleep 2001") == 1  # there before the command: left alone
