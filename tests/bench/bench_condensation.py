"""Long tasks: a 300-step scripted task on a 32k-token window, each step reading about 2 KB.

Reports the largest request (goal: under the window, also as the server counts it), the
tokens sent over the whole task against what keeping the whole history would have sent
(computed from the same events), and the time one condensation takes, against the
baseline of an ordinary step (tool result recorded to the next tool call) in the same run.

    make bench   (or: .venv/bin/python -m pytest -s -o python_files='bench_*.py' \
tests/bench/bench_condensation.py)
"""

from __future__ import annotations

import re
import statistics
import uuid

from agent import Agent, AgentStatus, Conversation, Tool
from agent.context.condenser import SUMMARY_SYSTEM_PROMPT
from agent.context.history import build_messages
from agent.context.window import ContextWindow
from agent.events import ActionEvent, CondensationEvent, ObservationEvent
from tests.support.fixtures import _llm_server_session, llm_server, make_llm  # noqa: F401
from tests.support.llm_server import CHARS_PER_TOKEN, RecordedRequest, Reply

STEPS = 300
WINDOW = 32_768
STEP_RE = re.compile(r"^step (\d+) line", re.MULTILINE)
SUMMARY = " ".join(
    f"Step group {n}: read the report files, each printed 25 lines, nothing failed."
    for n in range(1, 30)
)


def _is_summary(request: RecordedRequest) -> bool:
    return request.system_text() == SUMMARY_SYSTEM_PROMPT


def _script(request: RecordedRequest) -> Reply:
    if _is_summary(request):
        return Reply.say(SUMMARY)
    found = STEP_RE.findall("\n".join(request.tool_results()))
    done = max((int(n) for n in found), default=0)
    if done >= STEPS:
        return Reply.say(f"All {STEPS} steps done.")
    line = f"step {done + 1} line $i: the quick brown fox jumps over the lazy dog by the river"
    return Reply.call("bash", command=f'for i in $(seq 1 25); do echo "{line}"; done')


def test_condensation_over_a_long_task(llm_server, sandbox_image, tmp_path):  # noqa: F811
    from sandbox import DockerWorkspace

    llm_server.script = _script
    llm_server.window_chars = WINDOW * CHARS_PER_TOKEN
    workspace = DockerWorkspace(sandbox_image, conversation_id="bench-" + uuid.uuid4().hex[:8])
    workspace.start()
    llm = make_llm(llm_server, context_window=WINDOW)
    agent = Agent(llm=llm, tools=[Tool(name="BashTool"), Tool(name="FileEditorTool")])
    conversation = Conversation(
        agent, workspace=workspace, persistence_dir=tmp_path, max_iterations=STEPS + 50
    )
    try:
        conversation.send_message("Run the 300 report steps and tell me when they are done.")
        assert conversation.run() == AgentStatus.FINISHED
        events = conversation.state.events
    finally:
        conversation.close()
        workspace.remove(volume=True)

    requests = [r for r in llm_server.requests if not _is_summary(r)]
    assert not [r for r in llm_server.requests if r.refused]
    context = ContextWindow(llm, [t.openai_schema() for t in conversation._tools])
    sent = [context.tokens(r.messages) for r in requests]
    prompt = agent.effective_system_prompt()
    # Each reply of a step carries its usage and the events its request was built from.
    whole = [
        context.tokens(build_messages(prompt, events[:count]))
        for e in events
        if getattr(e, "usage", None) is not None
        and (count := getattr(e, "request_event_count", None))
    ]
    condensed = [e for e in events if isinstance(e, CondensationEvent)]

    # Wall time of each condensation (from the result before it to its event), against an
    # ordinary step (from a result to the next call) in the same run.
    index = {id(e): i for i, e in enumerate(events)}
    condense_s = [
        (c.timestamp - events[index[id(c)] - 1].timestamp).total_seconds() for c in condensed
    ]
    step_s = [
        (events[i + 1].timestamp - e.timestamp).total_seconds()
        for i, e in enumerate(events[:-1])
        if isinstance(e, ObservationEvent) and isinstance(events[i + 1], ActionEvent)
    ]
    largest = max(sent)
    ratio = sum(sent) / sum(whole)
    per_condensation = statistics.median(condense_s)
    per_step = statistics.median(step_s)
    print(
        f"\n[bench] condensation, {STEPS} steps, {WINDOW:,}-token window:"
        f"\n  largest request: {largest:,} tokens ({largest / WINDOW:.0%} of the window), "
        f"{max(r.chars() for r in requests):,} characters (server limit "
        f"{WINDOW * CHARS_PER_TOKEN:,})"
        f"\n  tokens sent: {sum(sent):,} vs {sum(whole):,} keeping the whole history "
        f"(ratio {ratio:.3f}); largest whole-history request {max(whole):,} tokens"
        f"\n  condensations: {len(condensed)}; median {per_condensation * 1000:.0f} ms each "
        f"(max {max(condense_s) * 1000:.0f} ms) vs {per_step * 1000:.0f} ms per ordinary step "
        f"(ratio {per_condensation / per_step:.2f})"
    )
    assert largest < WINDOW
    assert ratio < 1.0
