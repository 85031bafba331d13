"""Launch to the window's first paint, from a fresh interpreter as ``berth`` launches it (the
background preload on, as for a user), against a bare QMainWindow of the same size launched
the same way in the same run. Goal: under 1 s. Counted from the moment the interpreter is
spawned (its own start-up is part of the wait) to the end of the first paint
(tests/bench/launch_probe.py), on one clock for both processes.

    make bench   (or: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s -p no:randomly
                  -o python_files='bench_*.py' tests/bench/bench_launch.py)
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from tests.bench.fresh_app import run_fresh
from tests.bench.launch_probe import LaunchFigures

LAUNCH_GOAL_S = 1.0
LAUNCHES = 5


def _launch(home: Path, *args: str) -> tuple[float, LaunchFigures]:
    """Seconds from spawning the interpreter to the end of the window's first paint."""
    spawned = time.monotonic()
    env = {"LLM_MODEL": "openai/gpt-4o"}
    out = run_fresh("tests.bench.launch_probe", *args, home=home, env=env, timeout=120)
    figures = LaunchFigures.model_validate_json(out.strip().splitlines()[-1])
    return figures.painted_at - spawned, figures


def test_launch_to_first_paint(tmp_path: Path) -> None:
    berth: list[float] = []
    bare: list[float] = []
    preload_first = 0
    for run in range(LAUNCHES):  # interleaved, so both see the same load on the machine
        seconds, figures = _launch(tmp_path / f"berth{run}")
        berth.append(seconds)
        preload_first += figures.preload_started_before
        bare.append(_launch(tmp_path / f"bare{run}", "--bare")[0])
    median, base = statistics.median(berth), statistics.median(bare)
    rows = [
        ("Berth main window", f"{median * 1000:7.0f} ms", berth),
        ("bare QMainWindow (baseline)", f"{base * 1000:7.0f} ms", bare),
        ("ratio", f"{median / base:7.2f} x", None),
        ("preload started before the first paint", f"{preload_first:7d} of {LAUNCHES}", None),
        ("goal", f"< {LAUNCH_GOAL_S * 1000:.0f} ms", None),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(
        f"\nlaunch to the window's first paint (median of {LAUNCHES} | each; "
        "fresh interpreter, offscreen)"
    )
    for name, value, each in rows:
        runs = "  | " + " ".join(f"{s * 1000:5.0f}" for s in each) if each else ""
        print(f"  {name:<{width}}  {value}{runs}")
    assert median < LAUNCH_GOAL_S * 3, "far off the launch goal"
