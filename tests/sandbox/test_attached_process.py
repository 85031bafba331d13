"""A long-lived process attached in the container (what an MCP stdio server runs on): its
stdin and stdout carry data both ways, its stderr is kept, it lives in the container (not
on this machine), Stop leaves it be, a freeze holds it, and close() ends it. On the local
engine and over TCP."""

from __future__ import annotations

import queue
import time

import pytest

from sandbox import AttachedProcess, DockerWorkspace


def _read_until(process: AttachedProcess, wanted: bytes, timeout: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        piece = process.read(timeout=max(0.01, deadline - time.monotonic()))
        if not piece:
            break
        seen += piece
    return seen


def _top_commands(ws: DockerWorkspace) -> list[str]:
    top = ws.container.top(ps_args="-eo pid,args")
    return [" ".join(row[1:]) for row in top["Processes"]]


def test_streams_both_ways_and_stderr_kept(ws: DockerWorkspace) -> None:
    script = 'echo started >&2; while IFS= read -r line; do echo "got:$line"; done'
    process = ws.run_attached(["bash", "-c", script, "berth-echo-test"])
    try:
        process.write(b"hello\nworld\n")
        assert b"got:hello\ngot:world\n" in _read_until(process, b"got:world\n")
        assert "started" in process.stderr_tail()
        assert process.pid is not None and process.alive
    finally:
        process.close()
    assert process.wait(10), "close() did not end the process"
    assert process.read(timeout=1) == b""


def test_lives_in_the_container_and_survives_stop(ws: DockerWorkspace) -> None:
    process = ws.run_attached(["bash", "-c", "exec sleep 4242"])
    try:
        assert any("sleep 4242" in c for c in _top_commands(ws))
        # Stop ends the bash tool's command and what it started, never this process.
        ran = ws.execute("sleep 30 & wait", timeout=None, no_output_timeout=0.5)
        assert ran.still_running
        ws.interrupt()
        time.sleep(1.0)
        assert process.alive
        assert any("sleep 4242" in c for c in _top_commands(ws))
    finally:
        process.close()
    assert process.wait(10)
    assert not any("sleep 4242" in c for c in _top_commands(ws))


def test_a_freeze_holds_it(ws: DockerWorkspace) -> None:
    script = "while IFS= read -r line; do echo ok; done"
    process = ws.run_attached(["bash", "-c", script])
    try:
        ws.freeze()
        try:
            process.write(b"ping\n")
            with pytest.raises(queue.Empty):  # no answer while frozen
                process.read(timeout=1.0)
        finally:
            ws.thaw()
        assert b"ok" in _read_until(process, b"ok")
    finally:
        process.close()


def test_refused_while_frozen(ws: DockerWorkspace) -> None:
    from sandbox import SandboxError

    ws.freeze()
    try:
        with pytest.raises(SandboxError, match="paused"):
            ws.run_attached(["cat"])
    finally:
        ws.thaw()


def test_stderr_of_a_failed_start_is_kept(ws: DockerWorkspace) -> None:
    process = ws.run_attached(["bash", "-c", "echo 'no such thing' >&2; exit 3"])
    assert process.wait(10)
    assert process.read(timeout=1) == b""
    assert "no such thing" in process.stderr_tail()
    assert process.exit_code() == 3


def test_a_tag_ends_the_earlier_process(ws: DockerWorkspace) -> None:
    """One left running by an app that was killed is ended when its successor starts."""
    first = ws.run_attached(["bash", "-c", "exec sleep 4343"], tag="test-server")
    other = ws.run_attached(["bash", "-c", "exec sleep 4344"], tag="another")
    second = ws.run_attached(["bash", "-c", "exec sleep 4345"], tag="test-server")
    try:
        assert first.wait(10), "the earlier process of that tag still runs"
        commands = _top_commands(ws)
        assert not any("sleep 4343" in c for c in commands)
        assert any("sleep 4344" in c for c in commands)
        assert any("sleep 4345" in c for c in commands) and second.alive
    finally:
        for process in (first, other, second):
            process.close()
