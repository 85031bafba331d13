"""A streamed reply as it arrives: ``StreamDelta``, one piece of it, for token callbacks.

A delta carries one kind of text (the answer's ``content``, the model's
``reasoning_content``, or a tool call's ``tool_call_arguments``), empty strings for the
others. Deltas are shown, never persisted: the finished reply is recorded whole.
No litellm here (the window and the session import this module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict


class StreamDelta(BaseModel):
    """One piece of a reply as it streams in."""

    model_config = ConfigDict(frozen=True)

    content: str = ""
    reasoning_content: str = ""
    tool_call_arguments: str = ""
    # Which tool call the arguments belong to (its place in the reply), and its id and
    # name once the model has said them.
    tool_call_index: int | None = None
    tool_call_id: str = ""
    tool_name: str = ""

    @property
    def empty(self) -> bool:
        return not (
            self.content
            or self.reasoning_content
            or self.tool_call_arguments
            or self.tool_call_id
            or self.tool_name
        )

    def _key(self) -> tuple[str, int | None]:
        if self.tool_call_index is not None:
            return "tool", self.tool_call_index
        return ("reasoning" if self.reasoning_content else "content"), None

    def joined(self, later: StreamDelta) -> StreamDelta | None:
        """This delta and ``later`` as one, when they are of the same piece (else None)."""
        if self._key() != later._key() or (self.content and later.reasoning_content):
            return None
        return StreamDelta(
            content=self.content + later.content,
            reasoning_content=self.reasoning_content + later.reasoning_content,
            tool_call_arguments=self.tool_call_arguments + later.tool_call_arguments,
            tool_call_index=self.tool_call_index,
            tool_call_id=self.tool_call_id or later.tool_call_id,
            tool_name=self.tool_name or later.tool_name,
        )


DeltaCallback = Callable[[StreamDelta], None]


def coalesce(deltas: Iterable[StreamDelta]) -> list[StreamDelta]:
    """Neighbouring deltas of the same piece joined: what came in one frame, in order."""
    out: list[StreamDelta] = []
    for delta in deltas:
        joined = out[-1].joined(delta) if out else None
        if joined is not None:
            out[-1] = joined
        else:
            out.append(delta)
    return out


def deltas_of_chunk(chunk: Any) -> list[StreamDelta]:
    """The deltas in one of litellm's stream chunks (OpenAI's shape), empty ones left out."""
    out: list[StreamDelta] = []
    for choice in getattr(chunk, "choices", None) or []:
        delta = getattr(choice, "delta", None)
        if delta is None:
            continue
        reasoning = getattr(delta, "reasoning_content", None)
        if isinstance(reasoning, str) and reasoning:
            out.append(StreamDelta(reasoning_content=reasoning))
        content = getattr(delta, "content", None)
        if isinstance(content, str) and content:
            out.append(StreamDelta(content=content))
        for call in getattr(delta, "tool_calls", None) or []:
            function = getattr(call, "function", None)
            arguments = getattr(function, "arguments", None) if function is not None else None
            name = getattr(function, "name", None) if function is not None else None
            piece = StreamDelta(
                tool_call_arguments=arguments if isinstance(arguments, str) else "",
                tool_call_index=int(getattr(call, "index", 0) or 0),
                tool_call_id=getattr(call, "id", None) or "",
                tool_name=name if isinstance(name, str) else "",
            )
            if not piece.empty:
                out.append(piece)
    return out
