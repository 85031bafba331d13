"""How each kind of row looks: which parts it stacks, in what kind of card.

``build_card`` depends only on the row's content (not on the width), so its result is
cached per row version; ``Card.measure`` and ``Card.paint`` then work at any width.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPen

from gui.event_view.parts import (
    Chip,
    HeaderPart,
    ImagePart,
    LineStyle,
    MarkdownPart,
    MonoLine,
    MonoPart,
    PaintEnv,
    Part,
)
from gui.event_view.rows import (
    ErrorRow,
    MarkerRow,
    MessageRow,
    Row,
    RowKind,
    SummaryRow,
    Tone,
    ToolRow,
)
from gui.event_view.text_clip import ClippedText, clip_lines, more_lines_note, sanitize

# How much of a long text a row shows: head lines, tail lines, characters per line.
OUTPUT_CLIP = (6, 14, 300)
COMMAND_CLIP = (10, 0, 300)
DIFF_CLIP = (40, 0, 300)
ARGUMENTS_CLIP = (8, 0, 300)
ERROR_CLIP = (12, 4, 300)

_ENDED = {
    "timeout": "timed out",
    "interrupted": "interrupted",
    "app_stopped": "app stopped",
    "rejected": "rejected",
}


class CardStyle(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    ERROR = "error"
    MARKER = "marker"


@dataclass(slots=True)
class Card:
    style: CardStyle
    parts: tuple[Part, ...] = ()
    # The accent bar's colour for tool and error cards; the marker's colour.
    tone: Tone = Tone.NEUTRAL
    label: str = ""
    detail: str = ""
    time: str = ""

    # -- geometry ---------------------------------------------------------------------------

    def _frame(self, width: int, env: PaintEnv) -> tuple[float, float, int]:
        """Card left edge, card width and content width for a row ``width`` wide."""
        m = env.metrics
        card_width = max(120, width - 2 * m.margin_x)
        if self.style is CardStyle.USER:
            card_width = max(120, int(card_width * 0.82))
            return width - m.margin_x - card_width, card_width, card_width - 2 * m.pad_x
        inner = card_width - 2 * m.pad_x
        if self.style in (CardStyle.TOOL, CardStyle.ERROR):
            inner -= m.accent_width
        return m.margin_x, card_width, inner

    def content_width(self, width: int, env: PaintEnv) -> int:
        return self._frame(width, env)[2]

    def measure(self, width: int, env: PaintEnv, exact: bool) -> tuple[int, bool]:
        m = env.metrics
        if self.style is CardStyle.MARKER:
            return m.caption_line + 2 * m.gap + 8, True
        _, _, inner = self._frame(width, env)
        total = 2 * m.gap + 2 * m.pad_y + m.part_gap * (len(self.parts) - 1)
        all_exact = True
        for part in self.parts:
            height, part_exact = part.measure(inner, env, exact)
            total += height
            all_exact = all_exact and part_exact
        return total, all_exact

    # -- painting ---------------------------------------------------------------------------

    def paint(
        self, painter: QPainter, rect: QRectF, env: PaintEnv, selected: bool, height: int
    ) -> None:
        if self.style is CardStyle.MARKER:
            self._paint_marker(painter, rect, env, selected)
            return
        m, c = env.metrics, env.colors
        width = int(rect.width())
        left, card_width, inner = self._frame(width, env)
        layout_inner = inner
        if self.style is CardStyle.USER:
            # The bubble hugs short messages; it is laid out (and measured) at full width.
            natural = max(
                (
                    part.natural_width(inner, env)
                    if isinstance(part, MarkdownPart)
                    else part.natural_width(env)
                )
                for part in self.parts
                if isinstance(part, MarkdownPart | HeaderPart)
            )
            card_width = min(card_width, int(natural) + 2 * m.pad_x + 2)
            left = width - m.margin_x - card_width
            inner = int(card_width - 2 * m.pad_x)
        card = QRectF(rect.x() + left, rect.y() + m.gap, card_width, height - 2 * m.gap)
        fill, border = {
            CardStyle.USER: (c.user, c.user_border),
            CardStyle.ASSISTANT: (c.card, c.card_border),
            CardStyle.TOOL: (c.card, c.card_border),
            CardStyle.ERROR: (c.fill(Tone.DANGER), c.accent(Tone.DANGER)),
        }[self.style]
        painter.setPen(QPen(border, 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(card.adjusted(0.5, 0.5, -0.5, -0.5), m.radius, m.radius)
        x = card.x() + m.pad_x
        if self.style in (CardStyle.TOOL, CardStyle.ERROR):
            bar = QRectF(card.x() + 1, card.y() + 1, m.accent_width + 2, card.height() - 2)
            painter.save()
            painter.setClipRect(QRectF(bar.x(), bar.y(), m.accent_width, bar.height()))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.accent(self.tone))
            painter.drawRoundedRect(bar, m.radius - 1, m.radius - 1)
            painter.restore()
            x += m.accent_width
        if selected:
            painter.setPen(QPen(c.selection, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(card.adjusted(1, 1, -1, -1), m.radius, m.radius)
        painter.save()
        painter.setClipRect(card)
        y = card.y() + m.pad_y
        for part in self.parts:
            # Documents keep the width they were measured at; only the bubble is narrower.
            part_width = layout_inner if isinstance(part, MarkdownPart) else inner
            part.paint(painter, x, y, part_width, env)
            y += part.measure(layout_inner, env, True)[0] + m.part_gap
        painter.restore()

    def _paint_marker(self, painter: QPainter, rect: QRectF, env: PaintEnv, selected: bool) -> None:
        m, c = env.metrics, env.colors
        accent = c.accent(self.tone)
        label_metrics = QFontMetricsF(m.caption_bold)
        detail_metrics = QFontMetricsF(m.caption)
        detail = f" · {self.detail}" if self.detail else ""
        time = f"  {self.time}" if self.time else ""
        dot = 7.0
        max_text = rect.width() - 2 * m.margin_x - 80
        detail = detail_metrics.elidedText(
            detail,
            Qt.TextElideMode.ElideRight,
            max(0.0, max_text - label_metrics.horizontalAdvance(self.label)),
        )
        text_width = label_metrics.horizontalAdvance(self.label) + detail_metrics.horizontalAdvance(
            detail + time
        )
        total = dot + 6 + text_width
        mid_y = rect.y() + rect.height() / 2
        start = rect.x() + (rect.width() - total) / 2
        baseline = mid_y - m.caption_line / 2 + m.caption_ascent
        # Hairlines either side, fading into the row margins.
        painter.setPen(QPen(c.faint, 1))
        left_end, right_start = start - 12, start + total + 12
        painter.drawLine(QPointF(rect.x() + m.margin_x + 8, mid_y), QPointF(left_end, mid_y))
        painter.drawLine(QPointF(right_start, mid_y), QPointF(rect.right() - m.margin_x - 8, mid_y))
        if selected:
            painter.setPen(QPen(c.selection, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(
                QRectF(start - 10, rect.y() + 3, total + 20, rect.height() - 6), 6, 6
            )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(accent)
        painter.drawEllipse(QRectF(start, mid_y - dot / 2, dot, dot))
        x = start + dot + 6
        painter.setFont(m.caption_bold)
        painter.setPen(accent)
        painter.drawText(QPointF(x, baseline), self.label)
        x += label_metrics.horizontalAdvance(self.label)
        painter.setFont(m.caption)
        painter.setPen(c.dim)
        painter.drawText(QPointF(x, baseline), detail + time)


# -- building cards from rows ---------------------------------------------------------------


def build_card(row: Row) -> Card:
    time = row.clock()
    if isinstance(row, MessageRow):
        return _message_card(row, time)
    if isinstance(row, ToolRow):
        return _tool_card(row, time)
    if isinstance(row, ErrorRow):
        message = sanitize(row.message) + (f"\n→ {sanitize(row.hint)}" if row.hint else "")
        body = _mono(clip_lines(message, **_split(ERROR_CLIP)), LineStyle.TEXT)
        chips = (Chip("retrying", Tone.WARNING),) if row.retryable else ()
        header = HeaderPart(row.title, meta=time, chips=chips, tone=Tone.DANGER)
        return Card(CardStyle.ERROR, (header, body), tone=Tone.DANGER)
    if isinstance(row, MarkerRow):
        return Card(CardStyle.MARKER, tone=row.tone, label=row.label, detail=row.detail, time=time)
    if isinstance(row, SummaryRow):
        return _summary_card(row, time)
    raise TypeError(f"no card for {type(row).__name__}")


def _split(clip: tuple[int, int, int]) -> dict[str, int]:
    head, tail, max_chars = clip
    return {"head": head, "tail": tail, "max_chars": max_chars}


def _message_card(row: MessageRow, time: str) -> Card:
    chips: tuple[Chip, ...] = ()
    if row.queued:
        chips = (Chip("queued", Tone.WARNING),)
    elif row.finished:
        chips = (Chip("finished", Tone.SUCCESS),)
    header = HeaderPart(row.title, meta=time, chips=chips)
    body = MarkdownPart(row.text, row.uid, row.version)
    style = CardStyle.USER if row.kind is RowKind.USER else CardStyle.ASSISTANT
    return Card(style, (header, body))


def _summary_card(row: SummaryRow, time: str) -> Card:
    """Folded: a marker saying which steps the model now sees as a summary. Unfolded (a
    click, or Enter): the summary itself."""
    label = f"\N{BLACK RIGHT-POINTING SMALL TRIANGLE} {row.label}"
    if not row.expanded:
        detail = "to fit the context window · click to read the summary"
        return Card(CardStyle.MARKER, tone=Tone.INFO, label=label, detail=detail, time=time)
    header = HeaderPart(
        f"\N{BLACK DOWN-POINTING SMALL TRIANGLE} {row.label}",
        meta=time,
        chips=(Chip("summary", Tone.INFO),),
        tone=Tone.INFO,
    )
    body = MarkdownPart(row.summary_text, row.uid, row.version)
    return Card(CardStyle.TOOL, (header, body), tone=Tone.INFO)


def _tool_card(row: ToolRow, time: str) -> Card:
    obs = row.observation
    chips = _status_chips(row)
    if row.running:
        tone = Tone.INFO
    elif row.failed:
        tone = Tone.DANGER
    elif obs is not None and obs.ended:
        tone = Tone.WARNING  # stopped, rejected or cut short: neither success nor failure
    else:
        tone = Tone.SUCCESS
    meta = " · ".join(part for part in (obs.cwd if obs else None, time) if part)
    parts: list[Part] = []
    kind = row.kind
    if kind is RowKind.COMMAND:
        parts.append(HeaderPart(row.title(), meta=meta, chips=chips))
        prompt = "> " if row.is_input else "$ "
        command = clip_lines(sanitize(row.command), **_split(COMMAND_CLIP))
        lines = [
            MonoLine((prompt if i == 0 else "  ") + text, LineStyle.COMMAND)
            for i, text in enumerate(command.lines)
        ]
        if command.hidden:
            lines.append(MonoLine(more_lines_note(command.hidden), LineStyle.NOTE))
        if lines:  # a result whose call was never recorded has no command to show
            parts.append(MonoPart(tuple(lines), prompt=prompt))
    else:
        if kind is RowKind.EDIT and obs is not None and obs.diff:
            chips = _diff_chips(obs.diff) + chips
        if kind is RowKind.MCP:
            chips = (Chip("MCP", Tone.INFO), *chips)
        parts.append(HeaderPart(row.title(), meta=meta, chips=chips))
        if kind in (RowKind.TOOL, RowKind.MCP) and (row.arguments or row.raw_arguments):
            arguments = clip_lines(row.arguments_text(), **_split(ARGUMENTS_CLIP))
            parts.append(_mono(arguments, LineStyle.DIM))
    body = _body(row)
    if body is not None:
        parts.append(body)
    if obs is not None and obs.attachments:
        parts.append(ImagePart(tuple(obs.attachments)))
    return Card(CardStyle.TOOL, tuple(parts), tone=tone)


def _body(row: ToolRow) -> MonoPart | None:
    obs = row.observation
    if obs is not None and obs.diff:
        return _diff(obs.diff)
    output = row.output
    if not output.strip():
        return None
    style = LineStyle.ERROR if obs is not None and obs.is_error and obs.exit_code is None else None
    return _mono(clip_lines(sanitize(output), **_split(OUTPUT_CLIP)), style or LineStyle.TEXT, True)


def _mono(clipped: ClippedText, style: LineStyle, inset: bool = False) -> MonoPart:
    lines = [MonoLine(text, style) for text in clipped.lines]
    if clipped.hidden:
        lines.insert(clipped.hidden_at, MonoLine(more_lines_note(clipped.hidden), LineStyle.NOTE))
    return MonoPart(tuple(lines), inset=inset)


def _diff(diff: str) -> MonoPart:
    clipped = clip_lines(sanitize(diff), **_split(DIFF_CLIP))
    lines = []
    for text in clipped.lines:
        if text.startswith(("+++", "---")):
            style = LineStyle.FILE
        elif text.startswith("@@"):
            style = LineStyle.HUNK
        elif text.startswith("+"):
            style = LineStyle.ADDED
        elif text.startswith("-"):
            style = LineStyle.REMOVED
        else:
            style = LineStyle.TEXT
        lines.append(MonoLine(text, style))
    if clipped.hidden:
        lines.insert(clipped.hidden_at, MonoLine(more_lines_note(clipped.hidden), LineStyle.NOTE))
    return MonoPart(tuple(lines), inset=True)


def _diff_chips(diff: str) -> tuple[Chip, ...]:
    added = removed = 0
    for line in diff.split("\n"):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    chips = []
    if added:
        chips.append(Chip(f"+{added}", Tone.SUCCESS))
    if removed:
        chips.append(Chip(f"\N{MINUS SIGN}{removed}", Tone.DANGER))
    return tuple(chips)


def _status_chips(row: ToolRow) -> tuple[Chip, ...]:
    obs = row.observation
    if obs is None:
        if row.awaiting:
            return (Chip("awaiting approval", Tone.WARNING),)
        return (Chip("paused", Tone.WARNING) if row.paused else Chip("running…", Tone.INFO),)
    chips = []
    if obs.ended:
        chips.append(Chip(_ENDED.get(obs.ended, obs.ended.replace("_", " ")), Tone.WARNING))
    if obs.exit_code is not None:
        tone = Tone.SUCCESS if obs.exit_code == 0 else Tone.DANGER
        chips.append(Chip(f"exit {obs.exit_code}", tone))
    elif obs.is_error:
        chips.append(Chip("error", Tone.DANGER))
    return tuple(chips)
