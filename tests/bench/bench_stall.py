"""The worst GUI-thread stall in the user's story, right after launch (issue 12). Goal: no
gap over 50 ms between the beats of a 10 ms timer on the GUI thread.

The app runs in a fresh interpreter (tests/bench/stall_story.py), launched as ``berth``
launches it, with the heartbeat started before the window is built and no warm-up: litellm
is imported cold, in the background, while the user already works. The story: send a task,
pause two seconds into its command, send a correction, resume, finish, and the new file
shows in the window's file tree. Real Docker, real HTTP to the scripted server (in this
process, so it takes no GIL from the app).

Baseline, same run: the same heartbeat in a bare QMainWindow launched the same way. The
gaps counted start when the window shows (before that is launch time: bench_launch.py).
Each big gap is matched with the garbage collections that overlapped it (gc.callbacks).

    make bench   (or: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s -p no:randomly
                  -o python_files='bench_*.py' tests/bench/bench_stall.py)
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import pytest

from tests.bench.fresh_app import run_fresh
from tests.bench.stall_story import HEARTBEAT_MS, StoryFigures
from tests.support.fixtures import TEST_API_KEY, _llm_server_session, llm_server  # noqa: F401
from tests.support.llm_server import ScriptedLLMServer
from tests.support.stories import CORRECTION, greeting_script

STALL_GOAL_MS = 50.0
BIG_GAP_MS = 50.0
BASELINE_S = 8.0
# Launches of each; the figures vary from launch to launch on a shared machine.
RUNS = int(os.environ.get("BERTH_BENCH_STALL_RUNS", "3"))
# When the user sends after the window shows: at once is the story of the issue (litellm
# is still importing); 15 s sends after the import.
SEND_AFTER_S = float(os.environ.get("BERTH_BENCH_STALL_SEND_AFTER", "0"))
# Set to 1: each story also prints where the other threads stood at every GIL hold over
# 40 ms (stall_story.GilWatch), to find what a stall is made of.
DIAGNOSE = os.environ.get("BERTH_BENCH_STALL_DIAGNOSE") == "1"


def _child(home: Path, server: ScriptedLLMServer, *args: str) -> StoryFigures:
    """Run stall_story.py in a fresh interpreter with a home of its own."""
    out = home / "figures.json"
    env = {"LLM_MODEL": server.model, "LLM_BASE_URL": server.base_url, "LLM_API_KEY": TEST_API_KEY}
    extra = ("--diagnose",) if DIAGNOSE and "--bare" not in args else ()
    printed = run_fresh(
        "tests.bench.stall_story", str(out), *args, *extra, home=home, env=env, timeout=600
    )
    if extra:
        print(f"\n{home.name}: GIL holds over 40 ms\n{printed}")
    return StoryFigures.model_validate_json(out.read_text())


def _summary(gaps: list[float]) -> tuple[float, float, int]:
    ordered = sorted(gaps)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    return ordered[-1], p99, sum(1 for gap in gaps if gap > BIG_GAP_MS)


def _big_gaps(figures: StoryFigures) -> list[str]:
    """Each gap over BIG_GAP_MS: when it ended, and the collections that overlapped it."""
    rows = []
    for gap, end in zip(figures.gaps_ms, figures.gap_ends, strict=True):
        if gap <= BIG_GAP_MS:
            continue
        start = end - gap / 1000
        during = [
            f"gen{c.generation} {c.ms:.0f} ms on {c.thread}"
            for c in figures.collections
            if c.at < end and c.at + c.ms / 1000 > start and c.ms >= 5
        ]
        phase = max(
            (name for name, at in figures.phases.items() if at <= end),
            key=lambda name: figures.phases[name],
            default="",
        )
        rows.append(f"{gap:6.0f} ms at {end:5.1f} s (after {phase}) gc: {', '.join(during) or '-'}")
    return rows


def _row(name: str, values: list[float], fmt: str) -> tuple[str, str]:
    cells = "".join(f"{value:{fmt}}" for value in values)
    return name, f"{statistics.median(values):{fmt}}  |{cells}"


@pytest.mark.parametrize("conversations", [1, 3])  # 3: two more run in the background
def test_worst_stall_in_the_story_right_after_launch(
    conversations: int,
    llm_server: ScriptedLLMServer,  # noqa: F811
    sandbox_image: str,
    tmp_path: Path,
) -> None:
    llm_server.script = greeting_script
    stories: list[StoryFigures] = []
    bares: list[StoryFigures] = []
    for run in range(RUNS):  # interleaved, so both see the same load on the machine
        llm_server.reset(greeting_script)
        stories.append(
            _child(
                tmp_path / f"story{run}",
                llm_server,
                *("--conversations", str(conversations), "--send-after", str(SEND_AFTER_S)),
            )
        )
        corrected = [r for r in llm_server.requests if CORRECTION in r.all_text()]
        assert len(llm_server.requests) >= 2 + conversations and corrected, (
            "the story did not run as scripted"
        )
        bares.append(_child(tmp_path / f"bare{run}", llm_server, "--bare", str(BASELINE_S)))

    summaries = [_summary(story.gaps_ms) for story in stories]
    baselines = [_summary(bare.gaps_ms) for bare in bares]

    def phase(name: str) -> list[float]:
        return [story.phases.get(name, float("nan")) for story in stories]

    def full(story: StoryFigures) -> list[float]:
        return [c.ms for c in story.collections if c.generation == 2]

    rows = [
        _row("worst gap (ms)", [s[0] for s in summaries], "8.1f"),
        _row("p99 gap (ms)", [s[1] for s in summaries], "8.1f"),
        _row(f"gaps > {BIG_GAP_MS:.0f} ms", [s[2] for s in summaries], "8.0f"),
        _row("bare QMainWindow worst (baseline, ms)", [b[0] for b in baselines], "8.1f"),
        _row("bare QMainWindow p99 (ms)", [b[1] for b in baselines], "8.1f"),
        _row(f"bare QMainWindow gaps > {BIG_GAP_MS:.0f} ms", [b[2] for b in baselines], "8.0f"),
        _row(
            "ratio worst / baseline worst",
            [s[0] / max(b[0], 1e-6) for s, b in zip(summaries, baselines, strict=True)],
            "8.1f",
        ),
        _row("window shown at (s)", phase("shown"), "8.2f"),
        _row("sent at (s)", phase("sent"), "8.2f"),
        _row("preload thread done at (s)", phase("preload done"), "8.2f"),
        _row("command's first output at (s)", phase("command running"), "8.2f"),
        _row("finished, file in the tree at (s)", phase("end"), "8.2f"),
        _row("modules at send", [s.modules_at_send for s in stories], "8.0f"),
        _row("modules at the end", [s.modules_at_end for s in stories], "8.0f"),
        _row("modules imported after the preload", [len(s.late_modules) for s in stories], "8.0f"),
        _row("full collections", [len(full(s)) for s in stories], "8.0f"),
        _row("longest full collection (ms)", [max(full(s), default=0) for s in stories], "8.0f"),
    ]
    width = max(len(name) for name, _ in rows)
    print(
        f"\nGUI-thread heartbeat ({HEARTBEAT_MS} ms timer) from launch through send, pause, "
        f"correct, resume, finish; {RUNS} launches (fresh interpreter, offscreen), "
        f"sent {SEND_AFTER_S:g} s after the window showed; {conversations} conversation(s) "
        "at once (the others started first, running in the background). Median | each run. "
        f"Goal: worst < {STALL_GOAL_MS:.0f} ms"
    )
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    worst_run = max(range(RUNS), key=lambda i: summaries[i][0])
    print(f"  gaps over {BIG_GAP_MS:.0f} ms in the worst run:")
    for row in _big_gaps(stories[worst_run]):
        print(f"    {row}")
    late = stories[worst_run].late_modules
    print(f"  imported after the preload in that run: {', '.join(late[:12]) or '-'}", end="")
    print(f" (and {len(late) - 12} more)" if len(late) > 12 else "")
    assert max(s[0] for s in summaries) < 5000, "the GUI froze"
