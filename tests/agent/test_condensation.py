"""Long tasks: the history is condensed before it outgrows the model's context window.

The scripted server plays a model with a small window (it refuses, with OpenAI's exact
400 body, any request over it) and answers the summary requests Berth sends when the
history nears it. Outputs and the window are tiny, so sixty steps take seconds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from agent import AgentStatus, Conversation
from agent.context.condenser import SUMMARY_SYSTEM_PROMPT
from agent.events import CondensationEvent, ContextFileEvent, MessageEvent
from tests.agent.helpers import make_agent, make_conversation
from tests.support.fixtures import TEST_API_KEY
from tests.support.llm_server import CHARS_PER_TOKEN, RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[2]

WINDOW = 4000  # tokens, for Berth; the server refuses past WINDOW * 4 characters
TASK = "Count the lines of each step's report and tell me the total at the end."
STEP_RE = re.compile(r"^step (\d+) line", re.MULTILINE)
SUMMARY = "Summary: ran the report steps so far; each printed five lines; nothing failed."


def is_summary(request: RecordedRequest) -> bool:
    return request.system_text() == SUMMARY_SYSTEM_PROMPT


def report(step: int) -> str:
    """A command printing a few hundred characters of prose (about 4 characters a token)."""
    line = f"step {step} line $i: the quick brown fox jumps over the lazy dog near the river"
    return f'for i in 1 2 3 4 5; do echo "{line}"; done'


def steps_done(request: RecordedRequest) -> int:
    """The newest step whose report the request holds (the latest step is never
    condensed, so this is the step the task is at)."""
    found = STEP_RE.findall("\n".join(request.tool_results()))
    return max((int(n) for n in found), default=0)


def long_task(steps: int):
    def script(request: RecordedRequest) -> Reply:
        if is_summary(request):
            return Reply.say(SUMMARY)
        done = steps_done(request)
        if done < steps:
            return Reply.call("bash", command=report(done + 1))
        return Reply.say(f"All {steps} steps done.")

    return script


class HeldSummaries:
    """A long task whose summary requests wait ``delay`` seconds (settable meanwhile)."""

    def __init__(self, steps: int, delay: float) -> None:
        self.task = long_task(steps)
        self.delay = delay
        self.asked = threading.Event()

    def __call__(self, request: RecordedRequest) -> Reply:
        if is_summary(request):
            self.asked.set()
            return Reply.say(SUMMARY, delay=self.delay)
        return self.task(request)


def task_requests(server) -> list[RecordedRequest]:
    return [r for r in server.requests if not is_summary(r)]


def condensations(conversation) -> list[CondensationEvent]:
    return [e for e in conversation.state.events if isinstance(e, CondensationEvent)]


def test_sixty_steps_finish_under_the_window(llm_server, shared_workspace, tmp_path):
    llm_server.script = long_task(60)
    llm_server.window_chars = WINDOW * CHARS_PER_TOKEN
    conversation = make_conversation(llm_server, shared_workspace, tmp_path)
    conversation.agent.llm.context_window = WINDOW

    conversation.send_message(TASK)
    assert conversation.run() == AgentStatus.FINISHED

    requests = task_requests(llm_server)
    assert not [r for r in llm_server.requests if r.refused]
    assert max(r.chars() for r in llm_server.requests) <= WINDOW * CHARS_PER_TOKEN
    last = requests[-1]
    assert last.user_texts()[0] == TASK  # the first user message is still there, whole
    assert any(SUMMARY in text for text in last.user_texts())
    assert _last_message(conversation).text == "All 60 steps done."
    made = condensations(conversation)
    assert len(made) >= 2
    # Each condensation starts where the first did and reaches further.
    assert {c.first_step for c in made} == {made[0].first_step}
    assert [c.last_step for c in made] == sorted({c.last_step for c in made})
    assert all(c.tokens_after < c.tokens_before for c in made)
    stats = conversation.state.stats
    assert stats.condensations == len(made)
    assert stats.llm_calls == len(llm_server.requests)  # summary calls are counted too


def test_provider_refusal_condenses_and_the_retry_succeeds(llm_server, shared_workspace, tmp_path):
    """Berth believes the window is large; the provider's is small: its 400 is answered by
    condensing to what it said, and the run goes on."""
    llm_server.script = long_task(30)
    llm_server.window_chars = 2000 * CHARS_PER_TOKEN
    conversation = make_conversation(llm_server, shared_workspace, tmp_path)
    conversation.agent.llm.context_window = 100_000

    conversation.send_message(TASK)
    assert conversation.run() == AgentStatus.FINISHED

    refused = [r for r in llm_server.requests if r.refused]
    assert refused, "the provider never refused: the test proves nothing"
    made = condensations(conversation)
    assert made and made[0].reason == "provider"
    after_refusal = llm_server.requests[llm_server.requests.index(refused[0]) + 1 :]
    assert any(is_summary(r) for r in after_refusal)
    assert not task_requests(llm_server)[-1].refused
    assert _last_message(conversation).text == "All 30 steps done."


def test_a_window_too_small_for_the_task_ends_with_a_clear_error(
    llm_server, shared_workspace, tmp_path
):
    llm_server.script = long_task(3)
    llm_server.window_chars = 400  # less than the system prompt alone
    conversation = make_conversation(llm_server, shared_workspace, tmp_path)

    conversation.send_message(TASK)
    assert conversation.run() == AgentStatus.ERROR

    detail = conversation.state.status_detail
    assert "context window" in detail and "Settings" in detail
    assert "maximum context length" in detail  # what the provider said, too


def test_pause_during_the_summary_then_resume(llm_server, shared_workspace, tmp_path):
    script = llm_server.script = HeldSummaries(20, delay=5.0)
    conversation = make_conversation(llm_server, shared_workspace, tmp_path)
    conversation.agent.llm.context_window = WINDOW
    conversation.send_message(TASK)
    result: dict[str, AgentStatus] = {}
    runner = threading.Thread(target=lambda: result.update(status=conversation.run()))
    runner.start()
    assert script.asked.wait(60)
    conversation.pause()
    runner.join(5)

    assert result["status"] == AgentStatus.PAUSED
    assert "summarising" in conversation.state.status_detail
    assert not condensations(conversation)  # nothing of the abandoned summary is kept
    script.delay = 0.0
    assert conversation.run() == AgentStatus.FINISHED
    assert condensations(conversation)
    assert sum(1 for r in llm_server.requests if is_summary(r)) >= 2  # asked again


def test_a_message_sent_while_condensing_is_not_lost(llm_server, shared_workspace, tmp_path):
    correction = "Also report the number of words."
    held = HeldSummaries(40, delay=1.0)

    def script(request: RecordedRequest) -> Reply:
        if correction in request.user_texts() and not is_summary(request):
            return Reply.say("Lines and words counted.")
        return held(request)

    llm_server.script = script
    conversation = make_conversation(llm_server, shared_workspace, tmp_path)
    conversation.agent.llm.context_window = WINDOW
    conversation.send_message(TASK)
    runner = threading.Thread(target=conversation.run)
    runner.start()
    assert held.asked.wait(60)
    conversation.send_message(correction)
    runner.join(60)

    assert conversation.state.agent_status == AgentStatus.FINISHED
    after = task_requests(llm_server)[-1]
    assert correction in after.user_texts() and after.user_texts()[0] == TASK
    assert _last_message(conversation).text == "Lines and words counted."


def test_a_huge_tool_result_is_cut_before_it_is_sent(llm_server, shared_workspace, tmp_path):
    def script(request: RecordedRequest) -> Reply:
        if is_summary(request):
            return Reply.say(SUMMARY)
        if not request.tool_results():
            return Reply.call("bash", command="seq 1 20000")
        return Reply.say("Seen it.")

    llm_server.script = script
    llm_server.window_chars = WINDOW * CHARS_PER_TOKEN
    conversation = make_conversation(llm_server, shared_workspace, tmp_path)
    conversation.agent.llm.context_window = WINDOW
    conversation.send_message("Print the numbers.")
    assert conversation.run() == AgentStatus.FINISHED

    sent = task_requests(llm_server)[-1].last_tool_result()
    assert not llm_server.requests[-1].refused
    assert sent.startswith("1\n2\n3\n") and "characters of this output were cut" in sent
    # The log keeps the whole output; only the request was cut.
    whole = next(e for e in conversation.state.events if e.kind == "observation").content
    assert len(whole) > len(sent)


def test_reopened_conversation_sends_the_same_condensed_history(
    llm_server, shared_workspace, tmp_path
):
    llm_server.script = long_task(25)
    conversation = make_conversation(llm_server, shared_workspace, tmp_path)
    conversation.agent.llm.context_window = WINDOW
    conversation.send_message(TASK)
    assert conversation.run() == AgentStatus.FINISHED
    assert condensations(conversation)
    before = task_requests(llm_server)[-1].messages
    conversation.close()

    reopened = make_conversation(
        llm_server, shared_workspace, tmp_path, conversation_id=conversation.id
    )
    # A wider window: the new message cannot bring a condensation of its own, so the
    # request must be the last one with the new turn appended.
    reopened.agent.llm.context_window = WINDOW * 2
    llm_server.script = lambda r: Reply.say(SUMMARY) if is_summary(r) else Reply.say("Total: 125.")
    reopened.send_message("And the total?")
    assert reopened.run() == AgentStatus.FINISHED

    after = task_requests(llm_server)[-1].messages
    # Byte for byte the same prefix: what the provider cached is read again.
    assert after[: len(before)] == before
    assert isinstance(reopened.state.events[-2], MessageEvent)


CHILD = textwrap.dedent(
    """
    import sys
    from pydantic import SecretStr
    from agent import LLM, Agent, Conversation, Tool

    base_url, data_dir, key, window, task = sys.argv[1:6]
    llm = LLM(
        model="openai/berth-scripted",
        base_url=base_url,
        api_key=SecretStr(key),
        context_window=int(window),
    )
    agent = Agent(llm=llm, tools=[Tool(name="BashTool")])
    conversation = Conversation(agent, persistence_dir=data_dir)
    print(conversation.id, flush=True)
    conversation.send_message(task)
    conversation.run()
    """
)


def test_killed_during_condensation_then_reopened(llm_server, sandbox_image, tmp_path):
    script = llm_server.script = HeldSummaries(20, delay=60.0)
    data_dir = tmp_path / "conversations"
    args = [llm_server.base_url, str(data_dir), TEST_API_KEY, str(WINDOW), TASK]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        conversation_id = child.stdout.readline().strip()
        assert script.asked.wait(120), "the child never condensed"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        script.delay = 0.0

        reopened = Conversation(
            make_agent(llm_server, context_window=WINDOW),
            conversation_id=conversation_id,
            persistence_dir=data_dir,
        )
        try:
            assert reopened.state.agent_status == AgentStatus.PAUSED
            assert not condensations(reopened)  # the summary never came back: none recorded
            assert reopened.run() == AgentStatus.FINISHED
            assert len(condensations(reopened)) >= 1
            last = task_requests(llm_server)[-1]
            assert last.user_texts()[0] == TASK
            assert _last_message(reopened).text == "All 20 steps done."
        finally:
            reopened.delete()
    finally:
        if child.poll() is None:
            child.kill()


def test_agents_md_reaches_the_model_and_is_shown_as_read(llm_server, shared_workspace, tmp_path):
    rules = "# Rules\n\nAlways run `make lint` before you finish.\n"
    shared_workspace.write_bytes("/workspace/AGENTS.md", rules.encode() + b"x" * 40_000)
    try:
        conversation = make_conversation(llm_server, shared_workspace, tmp_path)
        conversation.send_message("Fix the bug.")
        assert conversation.run() == AgentStatus.FINISHED
        shared_workspace.write_bytes("/workspace/AGENTS.md", b"# Changed later\n")
        conversation.send_message("And now?")
        assert conversation.run() == AgentStatus.FINISHED
    finally:
        shared_workspace.execute("rm -f /workspace/AGENTS.md")

    first, second = llm_server.requests[0].system_text(), llm_server.requests[-1].system_text()
    assert "Always run `make lint` before you finish." in first
    assert "only its first 32 KB" in first  # the cap is said to the model
    assert len(first.encode()) < 34 * 1024
    assert second == first  # read once, at the start: the prompt stays as it was
    read = [e for e in conversation.state.events if isinstance(e, ContextFileEvent)]
    assert len(read) == 1 and read[0].truncated and read[0].size == len(rules) + 40_000


def test_the_tokenizer_counts_only_requests_near_the_threshold():
    """Building a tokenizer holds the GIL for 100-200 ms: a request far below the window is
    judged by its byte bound alone, one near it is counted exactly."""
    from agent.context.window import ContextWindow
    from agent.llm import LLM

    counted: list[int] = []

    class CountingLLM(LLM):
        def count_tokens(self, messages):
            counted.append(len(messages))
            return super().count_tokens(messages)

    llm = CountingLLM(model="openai/gpt-4o", context_window=2_000)
    window = ContextWindow(llm)
    short = [MessageEvent(role="user", text="Say hello")]
    request = window.build("You are an agent.", short)
    assert not window.over_threshold(request)
    assert counted == []  # no tokenizer was needed
    long = [*short, MessageEvent(role="assistant", text="word " * 2_000)]
    request = window.build("You are an agent.", long)
    assert window.over_threshold(request)  # 2,000 words pass 75% of 2,000 tokens
    assert counted  # counted exactly, since the bound could not tell
    assert request.tokens <= request.bound


def _last_message(conversation: Conversation) -> MessageEvent:
    """The agent's last message (a checkpoint or status event may come after it)."""
    return [e for e in conversation.state.events if isinstance(e, MessageEvent)][-1]
