"""The worst GUI-thread stall in the user's story, right after launch (issue 12). Goal: no
gap over 50 ms between the beats of a 10 ms timer on the GUI thread.

The app runs in a fresh interpreter (tests/bench/stall_story.py), launched as ``berth``
launches it, with the heartbeat started before the window is built and no warm-up: litellm
is imported cold, in the background, while the user already works. The story: send a task,
pause two seconds into its command, send a correction, resume, finish, and the new file
shows in the window's file tree. Real Docker, real HTTP to the scripted server (in this
process, so it takes no GIL from the app).

Baseline, same run: the same heartbeat in a bare QMainWindow launched the same way. The
gaps counted start when the window shows (before that is launch time: bench_gui.py).
Each big gap is matched with the garbage collections that overlapped it (gc.callbacks).

    make bench   (or: QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -s -p no:randomly
                  -o python_files='bench_*.py' tests/bench/bench_stall.py)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.bench.stall_story import HEARTBEAT_MS, StoryFigures
from tests.support.fixtures import TEST_API_KEY, _llm_server_session, llm_server  # noqa: F401
from tests.support.llm_server import ScriptedLLMServer
from tests.support.stories import CORRECTION, greeting_script

ROOT = Path(__file__).resolve().parents[2]
STALL_GOAL_MS = 50.0
BIG_GAP_MS = 50.0
BASELINE_S = 10.0
# Several conversations running the story at once need issue 12's window (the lead's
# branch); stall_story.py takes --conversations for it.
CONVERSATIONS = 1


def _child(tmp: Path, server: ScriptedLLMServer, *args: str) -> StoryFigures:
    """Run stall_story.py in a fresh interpreter with a home of its own."""
    tmp.mkdir(parents=True)
    out = tmp / "figures.json"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "LLM_MODEL": server.model,
        "LLM_BASE_URL": server.base_url,
        "LLM_API_KEY": TEST_API_KEY,
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_STATE_HOME": str(tmp / "state"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.stall_story", str(out), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise AssertionError(f"the story failed:\n{done.stdout}\n{done.stderr}")
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


def test_worst_stall_in_the_story_right_after_launch(
    llm_server: ScriptedLLMServer,  # noqa: F811
    sandbox_image: str,
    tmp_path: Path,
) -> None:
    llm_server.script = greeting_script
    story = _child(tmp_path / "story", llm_server, "--conversations", str(CONVERSATIONS))
    assert len(llm_server.requests) == 3, "the story did not run as scripted"
    assert CORRECTION in llm_server.requests[1].all_text()
    bare = _child(tmp_path / "bare", llm_server, "--bare", str(BASELINE_S))

    worst, p99, big = _summary(story.gaps_ms)
    bare_worst, bare_p99, bare_big = _summary(bare.gaps_ms)
    full = [c for c in story.collections if c.generation == 2]
    phases = story.phases
    rows = [
        ("worst gap", f"{worst:7.1f} ms"),
        ("p99 gap", f"{p99:7.1f} ms"),
        (f"gaps > {BIG_GAP_MS:.0f} ms", f"{big:7d}"),
        ("ticks", f"{len(story.gaps_ms):7d}"),
        ("bare QMainWindow worst (baseline)", f"{bare_worst:7.1f} ms"),
        ("bare QMainWindow p99", f"{bare_p99:7.1f} ms"),
        (f"bare QMainWindow gaps > {BIG_GAP_MS:.0f} ms", f"{bare_big:7d}"),
        ("ratio worst / baseline worst", f"{worst / max(bare_worst, 1e-6):7.1f} x"),
        ("window shown at", f"{phases['shown']:7.2f} s"),
        ("sent at", f"{phases['sent']:7.2f} s"),
        ("litellm preloaded at", f"{phases.get('preload done', -1):7.2f} s"),
        ("Running at", f"{phases.get('status Running', -1):7.2f} s"),
        ("command's first output at", f"{phases['command running']:7.2f} s"),
        ("finished, file in the tree at", f"{phases['end']:7.2f} s"),
        ("modules at send / at the end", f"{story.modules_at_send} / {story.modules_at_end}"),
        (
            "full collections (count, longest, total)",
            f"{len(full)}, {max((c.ms for c in full), default=0):.0f} ms, "
            f"{sum(c.ms for c in full):.0f} ms",
        ),
        ("goal", f"< {STALL_GOAL_MS:.0f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    print(
        f"\nGUI-thread heartbeat ({HEARTBEAT_MS} ms timer) from launch through send, pause, "
        "correct, resume, finish (fresh interpreter, offscreen)"
    )
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for row in _big_gaps(story):
        print(f"    {row}")
    assert worst < 5000, "the GUI froze"
