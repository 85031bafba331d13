"""The context window: what the next request holds, how many tokens that is, and whether
it still fits.

A request is rebuilt from the events each step: the system prompt (with AGENTS.md), then
the history as the latest CondensationEvent leaves it (the head up to the first user
message, the user messages of the condensed steps, the summary, then the steps since), with
any tool result too big for the window cut in the middle. Everything here is a pure
function of the events and the window, so a reopened conversation sends the same bytes and
the prefix the provider caches never changes between two condensations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from agent.context.branches import live_events
from agent.context.history import build_messages, rewind_text, without_images
from agent.events import CondensationEvent, ContextFileEvent, Event, MessageEvent, RewindEvent

if TYPE_CHECKING:
    from agent.llm import LLM, LLMError

# The next request is condensed when it would pass this share of the window; the rest is
# left for the reply.
THRESHOLD = 0.75
# A condensation keeps the request under this share, so it is not needed again next step.
TARGET = 0.5
# One tool result may take at most this share of the window; a longer one is cut.
OBSERVATION_SHARE = 0.25
# What a message's framing (role, separators) may add to its tokens, beyond its bytes.
MESSAGE_OVERHEAD = 8

SUMMARY_INTRO = (
    "[Earlier steps condensed] Steps {first}-{last} of this conversation were summarised "
    "to fit the model's context window; the user's messages from them are above, whole. "
    "What happened in those steps:"
)
CUT_NOTE = (
    "\n\n[... {hidden:,} characters of this output were cut here to fit the model's "
    "context window ...]\n\n"
)


class Request:
    """The messages of one LLM request and their size in tokens (tools included).

    ``bound`` is a cheap upper bound (no BPE token is shorter than a byte, so a request has
    at most as many tokens as its JSON has bytes, plus a few per message); ``tokens`` is the
    exact count, made only when asked. Most requests are far below the threshold by their
    bound, so the tokenizer is never loaded for them: building it (tiktoken's, in native
    code) holds the GIL for 100-200 ms, which the window felt as a stall.
    """

    __slots__ = ("_count", "_tokens", "bound", "messages")

    def __init__(self, messages: list[dict[str, Any]], count: Callable[[], int], bound: int):
        self.messages = messages
        self.bound = bound
        self._count = count
        self._tokens: int | None = None

    @property
    def tokens(self) -> int:
        if self._tokens is None:
            self._tokens = self._count()
        return self._tokens


def latest_condensation(events: Sequence[Event]) -> tuple[int, int, CondensationEvent] | None:
    """The newest condensation whose events are all still in ``events``, with the
    positions of its first and last replaced event."""
    positions: dict[str, int] | None = None
    for event in reversed(events):
        if not isinstance(event, CondensationEvent):
            continue
        if positions is None:
            positions = {e.id: i for i, e in enumerate(events)}
        first = positions.get(event.first_event_id)
        last = positions.get(event.last_event_id)
        if first is not None and last is not None and first <= last:
            return first, last, event
    return None


def summary_text(condensation: CondensationEvent) -> str:
    intro = SUMMARY_INTRO.format(first=condensation.first_step, last=condensation.last_step)
    return f"{intro}\n\n{condensation.summary.strip()}"


def visible_events(events: Sequence[Event]) -> list[Event]:
    """The events the model sees: the live branch (a rewind's abandoned events left out),
    with a condensed range replaced by its user messages and one message with the summary.

    A condensation made on a branch since abandoned names events no longer live: it is
    passed over. Rewinds become the message the model reads of them, so the list is one
    straight branch once the condensed range is cut out of it."""
    live = live_events(events)
    found = latest_condensation(live)
    if found is None:
        return live
    first, last, condensation = found
    kept = [
        e
        for e in live[first : last + 1]
        if isinstance(e, RewindEvent) or (isinstance(e, MessageEvent) and e.role == "user")
    ]
    summary = MessageEvent.model_construct(
        id=f"{condensation.id}-summary", role="user", text=summary_text(condensation)
    )
    return [_spoken(e) for e in (*live[:first], *kept)] + [
        summary,
        *(_spoken(e) for e in live[last + 1 :]),
    ]


def _spoken(event: Event) -> Event:
    if isinstance(event, RewindEvent):
        return MessageEvent.model_construct(id=event.id, role="user", text=rewind_text(event))
    return event


def system_prompt_with_context(base: str, events: Sequence[Event]) -> str:
    """The agent's system prompt, and AGENTS.md as it was read at the start."""
    from agent.context.agents_file import system_prompt_section

    for event in events:
        if isinstance(event, ContextFileEvent):
            return f"{base}\n\n{system_prompt_section(event)}"
    return base


class ContextWindow:
    """One conversation's view of its model's window, with a token count cache."""

    CACHE_LIMIT = 50_000

    def __init__(self, llm: LLM, tools: list[dict[str, Any]] | None = None) -> None:
        self.llm = llm
        self._counts: dict[str, int] = {}
        self.set_tools(tools or [])
        # A smaller window a provider taught us (its error named it, or refused a request).
        self.learned_window: int | None = None

    def set_tools(self, tools: list[dict[str, Any]]) -> None:
        """The tools' schemas every request carries (MCP servers add theirs once started)."""
        self.tools = tools
        self._tools_tokens: int | None = None
        self._tools_bound = len(json.dumps(tools, ensure_ascii=False).encode()) if tools else 0

    @property
    def window(self) -> int:
        configured = self.llm.effective_context_window()
        if self.learned_window is not None:
            return min(configured, self.learned_window)
        return configured

    @property
    def threshold_tokens(self) -> int:
        return int(self.window * THRESHOLD)

    # --- counting ----------------------------------------------------------------------------

    def message_tokens(self, message: dict[str, Any]) -> int:
        key = json.dumps(message, sort_keys=True, ensure_ascii=False)
        count = self._counts.get(key)
        if count is None:
            if len(self._counts) >= self.CACHE_LIMIT:
                self._counts.clear()
            count = self.llm.count_tokens([message])
            self._counts[key] = count
        return count

    def tools_tokens(self) -> int:
        if self._tools_tokens is None:
            text = json.dumps(self.tools, ensure_ascii=False) if self.tools else ""
            self._tools_tokens = (
                self.llm.count_tokens([{"role": "system", "content": text}]) if text else 0
            )
        return self._tools_tokens

    def bound(self, messages: Sequence[dict[str, Any]]) -> int:
        """At least the tokens of a request with ``messages`` (tools included), counted
        without a tokenizer: see Request."""
        return self._tools_bound + sum(message_bound(m) for m in messages)

    def count(self, messages: Sequence[dict[str, Any]]) -> int:
        """Tokens of ``messages`` alone."""
        return sum(self.message_tokens(m) for m in messages)

    def tokens(self, messages: Sequence[dict[str, Any]]) -> int:
        """Tokens of a request with ``messages``: the tools' schemas count too."""
        return self.count(messages) + self.tools_tokens()

    # --- building ----------------------------------------------------------------------------

    def build(self, system_prompt: str, events: Sequence[Event]) -> Request:
        """The next request: condensed as the log says, huge tool results cut."""
        prompt = system_prompt_with_context(system_prompt, events)
        messages = build_messages(prompt, visible_events(events))
        if not self.llm.reads_images():
            messages = without_images(messages, self.llm.model)
        messages = self.cut_all(messages)
        return Request(messages, lambda: self.tokens(messages), self.bound(messages))

    def over_threshold(self, request: Request) -> bool:
        if request.bound <= self.threshold_tokens:
            return False  # far enough below: no need to count exactly
        return request.tokens > self.threshold_tokens

    def observation_limit(self) -> int:
        return max(200, int(self.window * OBSERVATION_SHARE))

    def cut_all(self, messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self._cut(m) for m in messages]

    def _cut(self, message: dict[str, Any]) -> dict[str, Any]:
        """A tool result over its share of the window, cut in the middle (said in it)."""
        if message.get("role") != "tool":
            return message
        content = message.get("content")
        if not isinstance(content, str):
            return message
        limit = self.observation_limit()
        if message_bound(message) <= limit:
            return message
        tokens = self.message_tokens(message)
        if tokens <= limit:
            return message
        # Characters in proportion to the tokens allowed, with a margin for the note and for
        # text that packs more tokens into its later part.
        keep = max(200, int(len(content) * limit / tokens * 0.85))
        cut = dict(message)
        cut["content"] = cut_middle(content, keep)
        return cut

    # --- what a provider says ----------------------------------------------------------------

    def learn(self, error: LLMError, sent_tokens: int) -> None:
        """A provider refused a request as too long: requests stay under what it allows."""
        # The provider's tokenizer is not ours: its figures are scaled to our count when it
        # gives both, else the request it refused is taken as a little over the limit.
        window = int(sent_tokens * 0.9)
        if error.provider_window:
            window = error.provider_window
            if error.provider_tokens:
                window = int(window * sent_tokens / error.provider_tokens * 0.95)
        window = max(1000, window)
        if self.learned_window is None or window < self.learned_window:
            self.learned_window = window


def message_bound(message: dict[str, Any]) -> int:
    """At least the tokens of ``message``: its JSON's bytes and the framing."""
    return len(json.dumps(message, ensure_ascii=False).encode()) + MESSAGE_OVERHEAD


def cut_middle(text: str, keep: int) -> str:
    """``text`` with its middle replaced by a note, keeping about ``keep`` characters."""
    if len(text) <= keep:
        return text
    head = keep * 2 // 5
    tail = keep - head
    hidden = len(text) - head - tail
    return text[:head] + CUT_NOTE.format(hidden=hidden) + text[len(text) - tail :]
