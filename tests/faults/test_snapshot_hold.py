"""A snapshot reads one moment of the workspace: the agent's processes stand still while it
reads, and run on after; a pause or a resume in the middle neither waits for it nor is
undone by its end; and no exec that starts meanwhile wedges the engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sandbox import DockerWorkspace, Hold
from sandbox.stillness import held_still

TICKS = "/workspace/ticks.txt"
# A process the agent left running, as a background job: it counts as long as it runs.
TICKER = f"(while true; do echo x >> {TICKS}; sleep 0.02; done) >/dev/null 2>&1 &"


def _ticks(ws: DockerWorkspace) -> int:
    return ws.read_bytes(TICKS).count(b"x")


def _engine_paused(ws: DockerWorkspace) -> bool:
    ws.container.reload()
    return ws.container.status == "paused"


def _ticking(make_ws: Callable[..., DockerWorkspace]) -> DockerWorkspace:
    ws = make_ws()
    ws.start()
    ws.execute(TICKER)
    time.sleep(0.3)
    return ws


def _counts_while(ws: DockerWorkspace, seconds: float) -> int:
    before = _ticks(ws)
    time.sleep(seconds)
    return _ticks(ws) - before


def test_the_agents_processes_stand_still_while_a_snapshot_reads(make_ws) -> None:
    ws = _ticking(make_ws)
    with held_still(ws):
        assert _engine_paused(ws)
        still = _counts_while(ws, 0.6)
        assert ws.hold is Hold.NONE  # not a pause: the window shows nothing of it
    assert still == 0, f"the agent's job wrote {still} ticks during the snapshot"
    assert not _engine_paused(ws)
    assert _counts_while(ws, 0.6) > 5  # and it runs on after
    assert ws.execute("echo after").output.strip() == "after"


def test_a_pause_in_the_middle_of_a_snapshot_answers_at_once_and_outlasts_it(make_ws) -> None:
    ws = _ticking(make_ws)
    reading = threading.Event()
    done = threading.Event()

    def snapshot() -> None:
        with held_still(ws):
            reading.set()
            done.wait(10)

    reader = threading.Thread(target=snapshot, daemon=True)
    reader.start()
    assert reading.wait(10)
    paused = threading.Thread(target=ws.suspend, daemon=True)
    paused.start()
    paused.join(timeout=1)  # the snapshot still holds the exec gate: no waiting for it
    assert not paused.is_alive(), "a pause waited for the snapshot to end"
    assert ws.hold is Hold.FROZEN
    done.set()
    reader.join(timeout=10)
    assert _engine_paused(ws), "the snapshot's end undid the user's pause"
    assert _counts_while(ws, 0.5) == 0
    ws.thaw()
    assert not _engine_paused(ws)
    assert _counts_while(ws, 0.6) > 5


def test_a_resume_in_the_middle_of_a_snapshot_lets_the_container_go_when_it_ends(
    make_ws,
) -> None:
    ws = _ticking(make_ws)
    with held_still(ws):
        assert ws.suspend().hold is Hold.FROZEN
        ws.thaw()
        assert ws.hold is Hold.NONE
        assert _counts_while(ws, 0.4) == 0  # the snapshot still reads: still frozen
    assert not _engine_paused(ws)
    assert _counts_while(ws, 0.6) > 5


def test_snapshots_beside_short_commands_never_wedge_the_engine(make_ws) -> None:
    """Commands start execs (the shell, the disk guard's du, a warden for a new shell)
    while snapshots freeze and thaw: a freeze that met an exec starting wedged the engine."""
    ws = make_ws(disk_limit="10g")
    ws.start()
    stop = threading.Event()
    holds = 0

    def snapshots() -> None:
        nonlocal holds
        while not stop.is_set():
            with held_still(ws):
                time.sleep(0.02)
            holds += 1
            time.sleep(0.005 * (holds % 5))

    reader = threading.Thread(target=snapshots, daemon=True)
    reader.start()
    try:
        for i in range(25):
            assert ws.execute(
                f"echo {i} > /workspace/f{i}; cat /workspace/f{i}"
            ).output.strip() == str(i)
            if i % 5 == 0:
                ws.restart_shell()
    finally:
        stop.set()
        reader.join(timeout=30)
    assert not reader.is_alive(), "a snapshot's freeze never came back: the engine is wedged"
    assert holds > 5
    assert not _engine_paused(ws)
    assert ws.execute("echo alive").output.strip() == "alive"
