"""Pause latency: from ``pause()`` to ``run()`` returning PAUSED, in the three situations of
DESIGN.md, and how long ``pause()`` blocks its caller. Goals: p95 under 100 ms, and under
1 ms. The baseline is the Docker pause API alone (``workspace.freeze()``), measured in the
same run: a pause mid-command cannot be faster than that.

    make bench   (or: .venv/bin/python -m pytest -s -o python_files='bench_*.py' tests/bench)
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid

from agent import Agent, AgentStatus, Conversation, Tool
from agent.events import ActionEvent, ObservationEvent
from tests.support.fixtures import _llm_server_session, llm_server, make_llm  # noqa: F401
from tests.support.llm_server import Reply

TRIES = 20
LATENCY_GOAL_MS = 100.0
BLOCK_GOAL_MS = 1.0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("benchmark setup timed out")
        time.sleep(0.005)


class _Run:
    """run() on a thread, noting when it returned."""

    def __init__(self, conversation: Conversation) -> None:
        self.returned_at = 0.0
        self.status: AgentStatus | None = None

        def target() -> None:
            self.status = conversation.run()
            self.returned_at = time.perf_counter()

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(30)


def test_pause_latency(llm_server, sandbox_image, tmp_path):  # noqa: F811
    from sandbox import DockerWorkspace

    workspace = DockerWorkspace(sandbox_image, conversation_id="bench-" + uuid.uuid4().hex[:8])
    workspace.start()
    agent = Agent(llm=make_llm(llm_server), tools=[Tool(name="BashTool")])
    conversation = Conversation(agent, workspace=workspace, persistence_dir=tmp_path)
    latency: dict[str, list[float]] = {}
    blocking: list[float] = []
    try:
        # Baseline: the Docker pause API alone, while a command runs.
        workspace.execute("(sleep 600 &) ; true")
        freeze_ms = []
        for _ in range(TRIES):
            started = time.perf_counter()
            workspace.freeze()
            freeze_ms.append((time.perf_counter() - started) * 1000)
            workspace.thaw()

        # 1. Waiting for the model.
        llm_server.script = lambda _r: Reply.say("slow", delay=5.0)
        conversation.send_message("Think slowly")
        samples = latency["waiting for the LLM"] = []
        for _ in range(TRIES):
            count = len(llm_server.requests)
            run = _Run(conversation)
            llm_server.wait_for_requests(count + 1)
            time.sleep(0.02)
            started = time.perf_counter()
            conversation.pause()
            blocking.append((time.perf_counter() - started) * 1000)
            run.join()
            assert run.status == AgentStatus.PAUSED
            samples.append((run.returned_at - started) * 1000)

        # 2. Running a command (the container gets frozen).
        llm_server.script = lambda _r: Reply.call("bash", command="sleep 30")
        samples = latency["running a command"] = []
        for n in range(TRIES):
            conversation.send_message(f"Sleep, take {n}")  # also keeps stuck detection away
            count = sum(isinstance(e, ActionEvent) for e in conversation.state.events)
            run = _Run(conversation)
            _wait(
                lambda c=count: (
                    sum(isinstance(e, ActionEvent) for e in conversation.state.events) > c
                )
            )
            time.sleep(0.2)
            started = time.perf_counter()
            conversation.pause()
            blocking.append((time.perf_counter() - started) * 1000)
            run.join()
            assert run.status == AgentStatus.PAUSED
            samples.append((run.returned_at - started) * 1000)
            conversation.interrupt()  # end the frozen sleep before the next take

        # 3. Between steps: paused from the callback that sees a tool result.
        counter = iter(range(1000))
        llm_server.script = lambda _r: Reply.call("bash", command=f"echo {next(counter)}")
        paused_at: list[float] = []

        def pause_on_result(event) -> None:
            if isinstance(event, ObservationEvent):
                started = time.perf_counter()
                conversation.pause()
                blocking.append((time.perf_counter() - started) * 1000)
                paused_at.append(started)

        conversation.add_callback(pause_on_result)
        samples = latency["between steps"] = []
        for _ in range(TRIES):
            run = _Run(conversation)
            run.join()
            assert run.status == AgentStatus.PAUSED
            samples.append((run.returned_at - paused_at[-1]) * 1000)
    finally:
        conversation.close()
        workspace.remove(volume=True)

    freeze_median = statistics.median(freeze_ms)
    print()
    print(f"Pause latency, pause() -> run() returns PAUSED ({TRIES} tries each)")
    print(f"{'situation':<22}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'p95/goal':>10}")
    for name, values in latency.items():
        p95 = _p95(values)
        print(
            f"{name:<22}{statistics.median(values):>11.1f}{p95:>9.1f}{max(values):>9.1f}"
            f"{p95 / LATENCY_GOAL_MS:>10.2f}"
        )
    print(f"goal: p95 < {LATENCY_GOAL_MS:.0f} ms")
    print(
        f"baseline, docker pause API alone: median {freeze_median:.1f} ms, "
        f"p95 {_p95(freeze_ms):.1f} ms; command-case median / baseline = "
        f"{statistics.median(latency['running a command']) / freeze_median:.2f}"
    )
    print(
        f"pause() blocks its caller: median {statistics.median(blocking) * 1000:.0f} µs, "
        f"p95 {_p95(blocking) * 1000:.0f} µs, max {max(blocking) * 1000:.0f} µs "
        f"over {len(blocking)} calls (goal < {BLOCK_GOAL_MS:.0f} ms; "
        f"p95/goal {_p95(blocking) / BLOCK_GOAL_MS:.3f})"
    )
