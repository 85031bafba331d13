"""Pause when the freezer works, when it is not used, and when the machine makes it fail.

The status must never claim a freeze that did not happen: after each pause the engine's own
state, and a counter written by the command, say whether the container really holds still.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from agent import AgentStatus
from agent.events import PauseEvent
from sandbox import DockerWorkspace, Hold
from tests.agent.helpers import line_count, make_conversation, observations, wait_until
from tests.support.llm_server import RecordedRequest, Reply

TICKS = "/workspace/ticks.txt"
COUNT = f"for i in $(seq 1 30); do echo $i >> {TICKS}; sleep 0.05; done; echo counted"


def _engine_paused(ws: DockerWorkspace) -> bool:
    ws.container.reload()
    return ws.container.status == "paused"


def _counting_script(request: RecordedRequest) -> Reply:
    if not request.tool_results():
        return Reply.call("bash", command=COUNT)
    return Reply.say("Counted.")


def _quietly(ws: DockerWorkspace, command: str) -> None:
    """Run a command the test abandons: its end (the container removed) is no failure."""
    with contextlib.suppress(Exception):
        ws.execute(command, timeout=120)


@pytest.mark.parametrize(
    ("mode", "hold", "says"),
    [("signals", "stopped", "processes are stopped (SIGSTOP)"), ("freeze", "frozen", "frozen")],
)
def test_a_pause_holds_the_command_in_the_chosen_mode_and_says_how(
    llm_server, make_ws, tmp_path, mode: str, hold: str, says: str
) -> None:
    ws = make_ws(pause_mode=mode)
    llm_server.script = _counting_script
    conversation = make_conversation(llm_server, ws, tmp_path)
    conversation.send_message("Count slowly")
    result: list[AgentStatus] = []
    thread = threading.Thread(target=lambda: result.append(conversation.run()))
    thread.start()
    wait_until(lambda: line_count(ws, TICKS) >= 3, what="the count to start")

    conversation.pause()
    thread.join(10)

    assert result == [AgentStatus.PAUSED]
    assert says in conversation.state.status_detail
    pauses = [e for e in conversation.state.events if isinstance(e, PauseEvent)]
    assert pauses[-1].hold == hold
    assert _engine_paused(ws) == (mode == "freeze")  # SIGSTOP leaves the engine running
    before = line_count(ws, TICKS)
    time.sleep(0.5)
    assert line_count(ws, TICKS) == before < 30  # held still either way
    if mode == "signals":  # exec works then: the file tree can use find
        assert [e.name for e in ws.list_dir("/workspace")] == ["ticks.txt"]

    assert conversation.run() == AgentStatus.FINISHED
    assert line_count(ws, TICKS) == 30  # the command carried on where it stood
    assert "counted" in observations(conversation)[0].content
    assert ws.execute("echo usable", timeout=30).output == "usable\n"


def test_pause_under_a_fork_and_cpu_storm_never_claims_a_freeze_that_failed(make_ws) -> None:
    """Each pause either froze (the engine says paused) or stopped the processes by signal
    (the counter stands still); the number of failed freezes is printed for the report."""
    ws = make_ws(pause_mode="auto", pids_limit=256)
    ws.start()
    storm = (
        "for n in 1 2; do (while :; do :; done) & done; "
        "(while :; do (true &) ; sleep 0.001; done) & "
        f"i=0; while :; do i=$((i+1)); echo $i > {TICKS}; sleep 0.01; done"
    )
    worker = threading.Thread(target=_quietly, args=(ws, storm), daemon=True)
    worker.start()
    wait_until(lambda: ws.exists(TICKS), what="the storm to start")
    outcomes: dict[str, int] = {"frozen": 0, "stopped": 0, "none": 0}
    try:
        for _ in range(12):
            time.sleep(0.15)
            outcome = ws.suspend()
            outcomes[str(outcome.hold)] += 1
            if outcome.hold is Hold.FROZEN:
                assert _engine_paused(ws)
            elif outcome.hold is Hold.STOPPED:
                assert not _engine_paused(ws)
            if outcome.held:  # whatever holds it, the counter stands still
                first = ws.read_bytes(TICKS)
                time.sleep(0.1)
                assert ws.read_bytes(TICKS) == first
            ws.thaw()
            assert not _engine_paused(ws) and ws.hold is Hold.NONE
    finally:
        ws.interrupt()
    print(f"\nstorm pauses: {outcomes} (failed freezes: {outcomes['stopped'] + outcomes['none']})")
    assert outcomes["none"] == 0  # the signal fallback always held


def test_a_pause_right_after_short_commands_never_wedges_the_engine(make_ws) -> None:
    """After a short command the disk guard measures /workspace with an exec in the
    background, and a new shell starts its warden with one; a freeze that met such an exec
    still starting left runc's init frozen half-way
    and the engine answering nothing about the container again (seen: every run of the
    suite wedged three containers). Each freeze here must come back."""
    ws = make_ws(disk_limit="10g")
    ws.start()
    for i in range(30):
        ws.execute(f"echo {i} > /workspace/f{i}")
        if i % 3 == 0:  # a new shell, and its warden's exec, just before the freeze
            ws.restart_shell()
        time.sleep(i % 4 * 0.01)  # land the freeze at various points of the measuring
        froze = threading.Thread(target=ws.freeze, daemon=True)
        froze.start()
        froze.join(timeout=30)
        assert not froze.is_alive(), f"freeze {i} never came back: the engine is wedged"
        ws.thaw()
