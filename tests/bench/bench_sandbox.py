"""Sandbox round trips, on one container in one run, against the docker SDK's own ways.

- execute("true") in the persistent shell vs ``container.exec_run("true")`` (goal: <= 0.2)
- interrupt(): from the call to execute() returning (goal: < 100 ms)
- small-file read and write through the archive API vs ``exec_run("cat FILE")``
- container start to the first command's result

    make bench   (or: .venv/bin/python -m pytest -s -o python_files='bench_*.py' tests/bench)
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid

from sandbox import DockerWorkspace

ROUNDS = 200
SDK_ROUNDS = 30
GOAL_RATIO = 0.2


def _median_ms(action, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def test_bench_sandbox(sandbox_image, docker_client):
    begin = time.perf_counter()
    ws = DockerWorkspace(sandbox_image, conversation_id=f"bench-{uuid.uuid4().hex[:8]}")
    ws.start()
    started = time.perf_counter()
    assert ws.execute("true").exit_code == 0
    first = time.perf_counter()
    try:
        container = ws.container
        for _ in range(10):  # warm both paths
            ws.execute("true")
            container.exec_run("true")
        shell_ms = _median_ms(lambda: ws.execute("true"), ROUNDS)
        sdk_ms = _median_ms(lambda: container.exec_run("true"), SDK_ROUNDS)

        payload = b"x" * 4096
        ws.write_bytes("/workspace/small.txt", payload)
        write_ms = _median_ms(lambda: ws.write_bytes("/workspace/small.txt", payload), ROUNDS)
        read_ms = _median_ms(lambda: ws.read_bytes("/workspace/small.txt"), ROUNDS)
        cat_ms = _median_ms(lambda: container.exec_run("cat /workspace/small.txt"), SDK_ROUNDS)
        list_ms = _median_ms(lambda: ws.list_dir("/workspace"), ROUNDS)

        interrupts = []
        for _ in range(10):
            timer = threading.Timer(0.2, ws.interrupt)
            timer.start()
            t0 = time.perf_counter()
            result = ws.execute("sleep 30")
            interrupts.append((time.perf_counter() - t0 - 0.2) * 1000)
            assert result.interrupted
        interrupt_ms = statistics.median(interrupts)
    finally:
        ws.remove(volume=True)

    ratio = shell_ms / sdk_ms
    rows = [
        ("execute('true') round trip", shell_ms, "exec_run('true')", sdk_ms),
        ("read_bytes 4 KiB", read_ms, "exec_run('cat')", cat_ms),
        ("write_bytes 4 KiB", write_ms, "exec_run('cat')", cat_ms),
        ("list_dir /workspace", list_ms, "exec_run('true')", sdk_ms),
        ("interrupt() -> execute returns", interrupt_ms, "goal", 100.0),
        ("start() (create container)", (started - begin) * 1000, "", 0.0),
        ("start() -> first result", (first - begin) * 1000, "", 0.0),
    ]
    print("\n\nsandbox benchmark (medians, ms)")
    print(f"{'measure':34} {'ms':>9}   {'baseline':18} {'ms':>9} {'ratio':>7}")
    for name, value, base_name, base in rows:
        shown = f"{value / base:7.3f}" if base else ""
        base_text = f"{base:9.2f}" if base else ""
        print(f"{name:34} {value:9.2f}   {base_name:18} {base_text} {shown}")
    print(f"goal: execute/exec_run <= {GOAL_RATIO}: {'met' if ratio <= GOAL_RATIO else 'MISSED'}")
