"""Checkpoints on a real-sized workspace: this repository's own ``git archive HEAD`` plus
10,000 small files (about 200 MB), steps that change 3 files.

- Added time per step: a run of two such steps (the second waits for the first one's
  checkpoint, the loop's only wait on it) on the big workspace against the same run on an
  empty one, median of the difference. Goal: under 100 ms, and not growing with the
  workspace. The checkpoint alone (store side) is printed too, as is the first, full one.
- Rewind of that workspace (goal under 2 s) and fork from a checkpoint (goal under 5 s,
  the new container included).
- Baselines measured in the same run: ``docker commit`` of the agent's container (which
  does not even hold /workspace: it is a volume) and a full ``get_archive('/workspace')``.

    make bench   (or: .venv/bin/python -m pytest -s -o python_files='bench_*.py' tests/bench)
"""

from __future__ import annotations

import statistics
import subprocess
import time
import uuid
from pathlib import Path

from agent import Agent, AgentStatus, Conversation, Tool
from tests.support.fixtures import _llm_server_session, llm_server, make_llm  # noqa: F401
from tests.support.llm_server import RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[2]
TAKES = 9
STEP_GOAL_MS = 100.0
REWIND_GOAL_S = 2.0
FORK_GOAL_S = 5.0
# 100 folders of 100 files of 20,000 bytes: 10,000 files, 200 MB (random: no compression).
FILL = (
    "(cd /workspace && mkdir -p data && cd data && for d in $(seq -w 0 99); do "
    "mkdir -p d$d && head -c 2000000 /dev/urandom | split -b 20000 -a 2 -d - d$d/f; done)"
)


def change_three(n: int) -> str:
    return (
        f"echo {n} >> /workspace/README.md; echo {n} >> /workspace/agent/status.py; "
        f"echo {n} > /workspace/data/d50/f50"
    )


def two_steps(request: RecordedRequest) -> Reply:
    messages = request.messages
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    steps = sum(1 for m in messages[last_user:] if m["role"] == "tool")
    if steps < 2:
        return Reply.call("bash", command=change_three(len(messages) * 10 + steps))
    return Reply.say("Done.")


def timed_runs(conversation: Conversation, label: str) -> list[float]:
    """Milliseconds per run of two steps, each after the checkpoints before it are done."""
    samples = []
    for n in range(TAKES + 1):
        conversation.send_message(f"{label} take {n}")
        conversation.checkpoint_keeper.wait_idle()
        started = time.perf_counter()
        assert conversation.run() == AgentStatus.FINISHED
        samples.append((time.perf_counter() - started) * 1000)
        conversation.checkpoint_keeper.wait_idle()
    return samples[1:]  # the first run starts the helper and takes checkpoint 0


def _conversation(llm_server, tmp_path: Path) -> Conversation:  # noqa: F811
    agent = Agent(llm=make_llm(llm_server), tools=[Tool(name="BashTool")])
    return Conversation(agent, persistence_dir=tmp_path)


def test_checkpoint_costs(llm_server, sandbox_image, tmp_path, docker_client):  # noqa: F811
    llm_server.script = two_steps
    empty = _conversation(llm_server, tmp_path)
    big = _conversation(llm_server, tmp_path)
    fork: Conversation | None = None
    image = None
    try:
        empty.workspace.execute("mkdir -p /workspace/agent && touch /workspace/README.md")
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "HEAD"], check=True, capture_output=True
        ).stdout
        big.workspace.put_archive("/workspace", archive)
        assert big.workspace.execute(FILL, timeout=600).exit_code == 0
        size = big.workspace.execute("du -sb /workspace | cut -f1; find /workspace | wc -l")
        total_bytes, entries = (int(x) for x in size.output.split())

        empty_ms = timed_runs(empty, "empty")
        big_ms = timed_runs(big, "big")
        checkpoints = big.checkpoints
        first_s = _checkpoint_seconds(big, 0)
        store_ms = [_checkpoint_seconds(big, cp.step) * 1000 for cp in checkpoints[3:]]
        empty_store_ms = [
            _checkpoint_seconds(empty, cp.step) * 1000 for cp in empty.checkpoints[3:]
        ]

        # Rewind: back one step (3 files), then forward again, a few times.
        rewind_s = []
        for n in range(3):
            target = checkpoints[-2 if n % 2 == 0 else -1]
            started = time.perf_counter()
            big.rewind(target.id)
            rewind_s.append(time.perf_counter() - started)

        started = time.perf_counter()
        fork = big.fork(checkpoints[1].id)
        fork_s = time.perf_counter() - started
        assert fork.workspace.execute("ls /workspace/data/d99 | wc -l").output.strip() == "100"

        started = time.perf_counter()
        image = big.workspace.container.commit(
            repository="berth-bench-commit", tag=uuid.uuid4().hex[:8]
        )
        commit_s = time.perf_counter() - started
        started = time.perf_counter()
        stream, _stat = big.workspace.container.get_archive("/workspace")
        archived = sum(len(chunk) for chunk in stream)
        archive_s = time.perf_counter() - started
        usage = big.checkpoint_keeper.usage()
    finally:
        for conversation in (empty, big, fork):
            if conversation is not None:
                conversation.delete()
        if image is not None:
            docker_client.images.remove(image.id, force=True)

    added = [b - e for b, e in zip(sorted(big_ms), sorted(empty_ms), strict=True)]
    added_median = statistics.median(big_ms) - statistics.median(empty_ms)
    print()
    print(
        f"Checkpoints: workspace of {total_bytes / 1e6:.0f} MB in {entries:,} entries "
        f"(git archive HEAD + 10,000 files); each step changes 3 files; {TAKES} takes"
    )
    print(
        f"run of 2 steps, empty workspace: median {statistics.median(empty_ms):.0f} ms; "
        f"big workspace: median {statistics.median(big_ms):.0f} ms"
    )
    print(
        f"added time per step (big - empty, per run of 2 steps / 2): median "
        f"{added_median / 2:.1f} ms, max {max(added) / 2:.1f} ms; goal < {STEP_GOAL_MS:.0f} ms "
        f"(ratio {added_median / 2 / STEP_GOAL_MS:.2f})"
    )
    print(
        f"one checkpoint in the store (off the loop's thread): big workspace median "
        f"{statistics.median(store_ms):.0f} ms, empty {statistics.median(empty_store_ms):.1f} ms;"
        f" the first, full one: {first_s:.1f} s"
    )
    print(
        f"rewind one step: median {statistics.median(rewind_s):.2f} s (goal < {REWIND_GOAL_S} s, "
        f"ratio {statistics.median(rewind_s) / REWIND_GOAL_S:.2f}); fork from step 1 with its "
        f"own container: {fork_s:.2f} s (goal < {FORK_GOAL_S} s, ratio {fork_s / FORK_GOAL_S:.2f})"
    )
    print(
        f"baselines: docker commit {commit_s:.2f} s (without /workspace: a volume); "
        f"get_archive('/workspace') {archive_s:.2f} s ({archived / 1e6:.0f} MB); "
        f"rewind / get_archive = {statistics.median(rewind_s) / archive_s:.3f}"
    )
    print(
        f"store: {usage.bytes / 1e6:.0f} MB in {usage.objects:,} objects "
        f"for {len(checkpoints)} checkpoints"
    )


def _checkpoint_seconds(conversation: Conversation, step: int) -> float:
    from agent.events import CheckpointEvent

    for event in conversation.state.events:
        if isinstance(event, CheckpointEvent) and event.step == step:
            return event.seconds
    raise AssertionError(f"no checkpoint {step}")
