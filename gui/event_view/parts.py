"""The building blocks of a row: a header line, monospace text, a markdown document.

Each part answers two questions at a given content width: how tall it is (``measure``)
and how it looks (``paint``). Both use the same wrapping arithmetic, so the size the view
reserves is the size that gets painted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter

from agent.attachments import Attachment
from gui.event_view.colors import EventColors
from gui.event_view.markdown import (
    DocumentCache,
    code_boxes,
    document_height,
    estimate_height,
    hidden_lines_below,
    paint_document,
)
from gui.event_view.metrics import Metrics
from gui.event_view.rows import Tone
from gui.event_view.text_clip import more_lines_note, wrap, wrapped_count


@dataclass(slots=True)
class PaintEnv:
    metrics: Metrics
    colors: EventColors
    docs: DocumentCache


@dataclass(frozen=True, slots=True)
class Chip:
    text: str
    tone: Tone


def chip_width(chip: Chip, metrics: Metrics) -> float:
    return QFontMetricsF(metrics.caption_bold).horizontalAdvance(chip.text) + 2 * metrics.chip_pad_x


def paint_chip(painter: QPainter, chip: Chip, x: float, y: float, env: PaintEnv) -> float:
    """Draw ``chip`` with its top-left at (x, y); returns its width."""
    m = env.metrics
    width = chip_width(chip, m)
    rect = QRectF(x, y, width, m.chip_height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(env.colors.fill(chip.tone))
    painter.drawRoundedRect(rect, m.chip_height / 2, m.chip_height / 2)
    painter.setPen(env.colors.accent(chip.tone))
    painter.setFont(m.caption_bold)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, chip.text)
    return width


@dataclass(slots=True)
class HeaderPart:
    title: str
    meta: str = ""
    chips: tuple[Chip, ...] = ()
    tone: Tone | None = None
    # Long titles (file paths) keep both ends visible.
    elide: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle

    def measure(self, width: int, env: PaintEnv, exact: bool) -> tuple[int, bool]:
        return env.metrics.header_height, True

    def natural_width(self, env: PaintEnv) -> float:
        m = env.metrics
        fm = QFontMetricsF(m.caption_bold)
        width = fm.horizontalAdvance(self.title)
        if self.meta:
            width += QFontMetricsF(m.caption).horizontalAdvance(f"  {self.meta}")
        width += sum(chip_width(chip, m) + 6 for chip in self.chips)
        return width + 8  # the gap paint() keeps between the title and the chips

    def paint(self, painter: QPainter, x: float, y: float, width: int, env: PaintEnv) -> None:
        m, c = env.metrics, env.colors
        height = m.header_height
        right = x + width
        for chip in reversed(self.chips):
            right -= chip_width(chip, m)
            paint_chip(painter, chip, right, y + (height - m.chip_height) / 2, env)
            right -= 6
        baseline = y + (height - m.caption_line) / 2 + m.caption_ascent
        room = max(0.0, right - x - 8)
        title_metrics = QFontMetricsF(m.caption_bold)
        meta_metrics = QFontMetricsF(m.caption)
        meta = f"  {self.meta}" if self.meta else ""
        meta_width = meta_metrics.horizontalAdvance(meta)
        title = title_metrics.elidedText(self.title, self.elide, max(0.0, room - meta_width))
        painter.setFont(m.caption_bold)
        painter.setPen(c.accent(self.tone) if self.tone is not None else c.dim)
        painter.drawText(QPointF(x, baseline), title)
        if meta and title_metrics.horizontalAdvance(title) + meta_width <= room:
            painter.setFont(m.caption)
            painter.setPen(c.dim)
            painter.drawText(QPointF(x + title_metrics.horizontalAdvance(title), baseline), meta)


class LineStyle(StrEnum):
    TEXT = "text"
    DIM = "dim"
    COMMAND = "command"
    ADDED = "added"
    REMOVED = "removed"
    HUNK = "hunk"
    FILE = "file"
    NOTE = "note"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class MonoLine:
    text: str
    style: LineStyle = LineStyle.TEXT


@dataclass(slots=True)
class MonoPart:
    lines: tuple[MonoLine, ...]
    inset: bool = False
    # A command's first line starts with a "$ " prompt drawn in the accent colour.
    prompt: str = ""
    lengths: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.lengths = tuple(len(line.text) for line in self.lines)

    def _columns(self, width: int, m: Metrics) -> int:
        return m.columns(width - (2 * m.inset_pad_x if self.inset else 0))

    def measure(self, width: int, env: PaintEnv, exact: bool) -> tuple[int, bool]:
        m = env.metrics
        columns = self._columns(width, m)
        count = sum(wrapped_count(length, columns) for length in self.lengths)
        return count * m.mono_line + (2 * m.inset_pad_y if self.inset else 0), True

    def paint(self, painter: QPainter, x: float, y: float, width: int, env: PaintEnv) -> None:
        m, c = env.metrics, env.colors
        columns = self._columns(width, m)
        if self.inset:
            height, _ = self.measure(width, env, True)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.inset)
            painter.drawRoundedRect(QRectF(x, y, width, height), 5, 5)
            text_x, top = x + m.inset_pad_x, y + m.inset_pad_y
            fill_x, fill_width = x, width
        else:
            text_x, top = x, y
            fill_x, fill_width = x - 4, width + 8
        line_y = top
        for line in self.lines:
            fg, bg, font = _line_look(line.style, env)
            pieces = wrap(line.text, columns) if line.text else [""]
            if bg is not None:
                painter.fillRect(QRectF(fill_x, line_y, fill_width, len(pieces) * m.mono_line), bg)
            painter.setFont(font)
            painter.setPen(fg)
            for piece in pieces:
                baseline = line_y + m.mono_ascent
                if self.prompt and line is self.lines[0] and piece is pieces[0]:
                    painter.setPen(c.accent(Tone.INFO))
                    painter.drawText(QPointF(text_x, baseline), self.prompt)
                    painter.setPen(fg)
                    painter.drawText(
                        QPointF(text_x + len(self.prompt) * m.char_width, baseline),
                        piece[len(self.prompt) :],
                    )
                else:
                    painter.drawText(QPointF(text_x, baseline), piece)
                line_y += m.mono_line


def _line_look(style: LineStyle, env: PaintEnv) -> tuple[QColor, QColor | None, QFont]:
    m, c = env.metrics, env.colors
    if style is LineStyle.ADDED:
        return c.accent(Tone.SUCCESS), c.fill(Tone.SUCCESS), m.mono
    if style is LineStyle.REMOVED:
        return c.accent(Tone.DANGER), c.fill(Tone.DANGER), m.mono
    if style is LineStyle.HUNK:
        return c.accent(Tone.INFO), None, m.mono
    if style is LineStyle.FILE:
        return c.dim, None, m.mono_bold
    if style is LineStyle.COMMAND:
        return c.text, None, m.mono_bold
    if style is LineStyle.NOTE:
        return c.dim, None, m.mono
    if style is LineStyle.ERROR:
        return c.accent(Tone.DANGER), None, m.mono
    if style is LineStyle.DIM:
        return c.dim, None, m.mono
    return c.text, None, m.mono


@dataclass(slots=True)
class MarkdownPart:
    text: str
    uid: int
    version: int
    # Taller messages are cut here with a "… N more lines" note (copy gives the whole text).
    max_lines: int = 60
    dim: bool = False  # the model's reasoning: quieter than its answer

    def _key(self, width: int) -> tuple[int, int, int]:
        return (self.uid, self.version, width)

    def _max_height(self, m: Metrics) -> int:
        return self.max_lines * m.text_line

    def measure(self, width: int, env: PaintEnv, exact: bool) -> tuple[int, bool]:
        m = env.metrics
        doc = env.docs.peek(self._key(width))
        if doc is None and not exact:
            return min(estimate_height(self.text, width, m), self._max_height(m)), False
        if doc is None:
            doc = env.docs.get(self._key(width), self.text, m, env.colors)
        height = document_height(doc)
        if height > self._max_height(m):
            return self._max_height(m) + m.part_gap + m.mono_line, True
        return height, True

    def natural_width(self, width: int, env: PaintEnv) -> float:
        doc = env.docs.get(self._key(width), self.text, env.metrics, env.colors)
        if code_boxes(doc):
            return width  # code boxes span the whole text width
        return doc.idealWidth()

    def paint(self, painter: QPainter, x: float, y: float, width: int, env: PaintEnv) -> None:
        m, c = env.metrics, env.colors
        doc = env.docs.get(self._key(width), self.text, m, c)
        height = document_height(doc)
        limit = self._max_height(m)
        color = c.dim if self.dim else c.text
        paint_document(painter, doc, x, y, min(height, limit), color, c.code_background)
        if height > limit:
            hidden = hidden_lines_below(doc, limit)
            painter.setFont(m.mono)
            painter.setPen(c.dim)
            painter.drawText(
                QPointF(x, y + limit + m.part_gap + m.mono_ascent), more_lines_note(hidden)
            )


@dataclass(slots=True)
class ImagePart:
    """Thumbnails of the images a tool returned, side by side; never scaled up."""

    images: tuple[Attachment, ...]
    max_height: int = 160
    max_width: int = 320
    gap: int = 8
    _decoded: list[QImage] | None = None

    def _qimages(self) -> list[QImage]:
        if self._decoded is None:
            # One that does not decode is drawn as an empty frame: the text says it came.
            self._decoded = [QImage.fromData(image.image_bytes()) for image in self.images]
        return self._decoded

    def sizes(self, width: int) -> list[QSizeF]:
        """Each thumbnail's size; they wrap to a new line past ``width``."""
        sizes = []
        for image in self._qimages():
            if image.isNull():
                sizes.append(QSizeF(64, 64))
                continue
            scale = min(
                1.0, self.max_height / image.height(), min(width, self.max_width) / image.width()
            )
            sizes.append(QSizeF(image.width() * scale, image.height() * scale))
        return sizes

    def _layout(self, width: int) -> list[QRectF]:
        rects, x, y, row_height = [], 0.0, 0.0, 0.0
        for size in self.sizes(width):
            if x and x + size.width() > width:
                x, y, row_height = 0.0, y + row_height + self.gap, 0.0
            rects.append(QRectF(x, y, size.width(), size.height()))
            x += size.width() + self.gap
            row_height = max(row_height, size.height())
        return rects

    def measure(self, width: int, env: PaintEnv, exact: bool) -> tuple[int, bool]:
        rects = self._layout(width)
        return (int(max(r.bottom() for r in rects)) + 1 if rects else 0), True

    def paint(self, painter: QPainter, x: float, y: float, width: int, env: PaintEnv) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for image, rect in zip(self._qimages(), self._layout(width), strict=True):
            target = rect.translated(x, y)
            if not image.isNull():
                painter.drawImage(target, image)
            painter.setPen(env.colors.card_border)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
        painter.restore()


Part = HeaderPart | MonoPart | MarkdownPart | ImagePart
