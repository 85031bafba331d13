"""Prompt caching: where a request tells the provider which prefix to keep.

OpenAI (and most OpenAI-compatible servers) cache a request's longest repeated prefix on
their own; all they need is that the prefix stays byte-identical between requests, which
the history builder sees to (system prompt, tools, first message, condensed head). Anthropic
caches only up to the breakpoints a request marks with ``cache_control``; litellm carries
the marks through to Anthropic, Bedrock and Vertex for Claude models.
"""

from __future__ import annotations

import copy
from typing import Any

# Providers that read cache_control marks (litellm's names).
_MARKING_PROVIDERS = {"anthropic", "bedrock", "bedrock_converse", "vertex_ai"}
EPHEMERAL = {"type": "ephemeral"}


def wants_cache_control(model: str) -> bool:
    """True for models whose provider caches only at marked breakpoints (Claude)."""
    provider, _, name = model.partition("/")
    if not name:
        provider, name = "", provider
    if provider in ("anthropic",):
        return True
    return provider in _MARKING_PROVIDERS and "claude" in name.lower()


def mark_cache_breakpoints(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of ``messages`` with cache breakpoints on the stable head and the newest tail.

    Three marks (Anthropic allows four): the system prompt, the last message of the head
    that stays put between condensations (the first user message, or the summary that
    follows it), and the newest message, so each request reads the previous one's prefix
    from the cache."""
    marked = copy.deepcopy(messages)
    if not marked:
        return marked
    targets = [0]
    head = _head_end(marked)
    if head is not None:
        targets.append(head)
    targets.append(len(marked) - 1)
    for index in sorted(set(targets)):
        _mark(marked[index])
    return marked


def _head_end(messages: list[dict[str, Any]]) -> int | None:
    """The last of the leading run of system and user messages (the stable head)."""
    end = None
    for index, message in enumerate(messages):
        if message.get("role") not in ("system", "user"):
            break
        end = index
    return end if end else None


def _mark(message: dict[str, Any]) -> None:
    content = message.get("content")
    if isinstance(content, str) and content:
        message["content"] = [{"type": "text", "text": content, "cache_control": EPHEMERAL}]
    elif isinstance(content, list) and content and isinstance(content[-1], dict):
        content[-1]["cache_control"] = EPHEMERAL
    # An assistant message with only tool calls has no text to mark: it is left as is.
