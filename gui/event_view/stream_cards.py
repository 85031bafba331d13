"""How the reply streaming in, and the reasoning of a finished one, look as cards."""

from __future__ import annotations

from gui.event_view.cards import ARGUMENTS_CLIP, COMMAND_CLIP, Card, CardStyle, build_card
from gui.event_view.parts import Chip, HeaderPart, LineStyle, MarkdownPart, MonoLine, MonoPart, Part
from gui.event_view.rows import Row, StreamRow, ThinkingRow, Tone
from gui.event_view.streaming import call_preview, tail
from gui.event_view.text_clip import clip_lines, sanitize

OPEN, FOLDED = "\N{BLACK DOWN-POINTING SMALL TRIANGLE}", "\N{BLACK RIGHT-POINTING SMALL TRIANGLE}"


def card_for(row: Row) -> Card:
    if isinstance(row, StreamRow):
        return _stream_card(row)
    if isinstance(row, ThinkingRow):
        return _thinking_card(row)
    return build_card(row)


def _thinking_card(row: ThinkingRow) -> Card:
    if not row.expanded:
        header = HeaderPart(f"{FOLDED} Thinking", meta="click to read the model's reasoning")
        return Card(CardStyle.TOOL, (header,), tone=Tone.INFO)
    header = HeaderPart(f"{OPEN} Thinking", meta=row.clock())
    body = MarkdownPart(row.text, row.uid, row.version, dim=True)
    return Card(CardStyle.TOOL, (header, body), tone=Tone.INFO)


def _stream_card(row: StreamRow) -> Card:
    if not row.reasoning and not row.answering:
        return Card(CardStyle.MARKER, tone=Tone.INFO, label="Thinking…", detail=f"{row.elapsed} s")
    parts: list[Part] = []
    if row.reasoning:
        seconds = row.thought_for if row.thought_for is not None else float(row.elapsed)
        meta = f"{seconds:.0f} s"
        if row.shows_thinking:
            chips = () if row.answering else (Chip("thinking…", Tone.INFO),)
            parts.append(HeaderPart(f"{OPEN} Thinking", meta=meta, chips=chips))
            # The reasoning's own document: its uid must not be the answer's.
            parts.append(MarkdownPart(tail(row.reasoning), -row.uid, row.version, dim=True))
        else:
            parts.append(HeaderPart(f"{FOLDED} Thinking", meta=f"{meta} · click to read"))
    if row.content:
        chips = () if row.calls else (Chip("writing…", Tone.INFO),)
        parts.append(HeaderPart("Agent", chips=chips))
        parts.append(MarkdownPart(tail(row.content), row.uid, row.version))
    for index in sorted(row.calls):
        title, body = call_preview(row.calls[index])
        parts.append(HeaderPart(title, chips=(Chip("writing…", Tone.INFO),)))
        if body:
            clip = COMMAND_CLIP if row.calls[index].name == "bash" else ARGUMENTS_CLIP
            clipped = clip_lines(sanitize(body), head=clip[0], tail=clip[1], max_chars=clip[2])
            bash = row.calls[index].name == "bash"
            style = LineStyle.COMMAND if bash else LineStyle.DIM
            prompt = "$ " if bash else ""
            lines = tuple(
                MonoLine((prompt if i == 0 else " " * len(prompt)) + text, style)
                for i, text in enumerate(clipped.lines)
            )
            if lines:
                parts.append(MonoPart(lines, prompt=prompt))
    return Card(CardStyle.ASSISTANT, tuple(parts))
