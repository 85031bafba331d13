"""How the scripted server streams a reply: OpenAI's SSE chunks, in the order a real model
sends them (reasoning first, then the text, then each tool call with its arguments in
pieces, the finish reason, and the usage chunk when ``stream_options.include_usage`` asks
for it), each piece written as it is due so a client sees the reply grow."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

# Characters a piece carries: about a token of text, a few of a tool call's arguments.
TEXT_PIECE = 4
ARGUMENT_PIECE = 10


class StreamedToolCall(Protocol):
    id: str
    name: str

    def arguments_text(self) -> str: ...


class StreamedReply(Protocol):
    content: str | None
    reasoning: str | None
    tool_calls: Any  # list of StreamedToolCall

    def usage(self) -> dict[str, Any]: ...


def chunks(completion_id: str, reply: StreamedReply, model: str, usage: bool) -> Iterator[dict]:
    """Every chunk of ``reply``, first to last."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    yield chunk({"role": "assistant", "content": ""})
    reasoning = reply.reasoning or ""
    for start in range(0, len(reasoning), TEXT_PIECE):
        yield chunk({"reasoning_content": reasoning[start : start + TEXT_PIECE]})
    text = reply.content or ""
    for start in range(0, len(text), TEXT_PIECE):
        yield chunk({"content": text[start : start + TEXT_PIECE]})
    for index, call in enumerate(reply.tool_calls):
        function = {"name": call.name, "arguments": ""}
        yield chunk(
            {
                "tool_calls": [
                    {"index": index, "id": call.id, "type": "function", "function": function}
                ]
            }
        )
        arguments = call.arguments_text()
        for start in range(0, len(arguments), ARGUMENT_PIECE):
            piece = arguments[start : start + ARGUMENT_PIECE]
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if usage:
        yield {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": reply.usage(),
        }


def write_stream(
    write: Callable[[bytes], None], pieces: Iterator[dict[str, Any]], pace: float
) -> None:
    """Write each chunk as an SSE event, ``pace`` seconds apart (0: all at once)."""
    first = True
    for piece in pieces:
        if pace > 0 and not first:
            time.sleep(pace)
        first = False
        write(b"data: " + json.dumps(piece).encode() + b"\n\n")
    write(b"data: [DONE]\n\n")
