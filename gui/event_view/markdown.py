"""Markdown messages as laid-out QTextDocuments, with a bounded cache.

Laying out a document costs ~50-100 µs, too much to do for every one of 10,000 rows on
each resize: heights are estimated from the text until a row is painted or the view's idle
pass measures it, and only recently used documents are kept.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QPainter,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

from gui.event_view.colors import EventColors
from gui.event_view.metrics import Metrics

_CODE_FENCE = QTextFormat.Property.BlockCodeFence
_HEADING_SIZE = QTextFormat.Property.FontSizeAdjustment
_CODE_PAD = 6


def build_document(text: str, metrics: Metrics, colors: EventColors, width: int) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultFont(metrics.font)
    doc.setMarkdown(text, QTextDocument.MarkdownFeature.MarkdownDialectGitHub)
    _style(doc, metrics, colors)
    doc.setTextWidth(width)
    return doc


def _style(doc: QTextDocument, metrics: Metrics, colors: EventColors) -> None:
    """Tighter, chat-sized typography than Qt's defaults, and tinted code."""
    code_char = QTextCharFormat()
    code_char.setBackground(colors.code_background)
    code_char.setFontFamilies([metrics.mono.family()])
    block = doc.begin()
    first = True
    while block.isValid():
        cursor = QTextCursor(block)
        fmt = block.blockFormat()
        change = QTextBlockFormat()
        if first:
            change.setTopMargin(0)
            first = False
        if not block.next().isValid():
            change.setBottomMargin(0)
        if fmt.hasProperty(_CODE_FENCE):
            # Margins become the padding of the rounded box paint_document draws behind.
            change.setLeftMargin(_CODE_PAD)
            change.setRightMargin(_CODE_PAD)
            # Qt collapses neighbouring margins (the larger wins) and leaves margins out of
            # block rects: 2 pads = one pad inside the box plus one of air outside it.
            previous, following = block.previous(), block.next()
            if not _is_code(previous):
                change.setTopMargin(_CODE_PAD * (2 if previous.isValid() else 1))
            if not _is_code(following):
                change.setBottomMargin(_CODE_PAD * (2 if following.isValid() else 1))
            cursor.mergeBlockFormat(change)
            cursor.select(QTextCursor.SelectionType.BlockUnderCursor)
            mono = QTextCharFormat()
            mono.setFontFamilies([metrics.mono.family()])
            cursor.mergeCharFormat(mono)
        else:
            if block.textList() is not None:
                change.setTopMargin(1)
                change.setBottomMargin(1)
            if fmt.headingLevel():
                change.setTopMargin(4)
                change.setBottomMargin(2)
                heading = QTextCharFormat()
                heading.setProperty(_HEADING_SIZE, 1 if fmt.headingLevel() <= 2 else 0)
                heading.setFontWeight(QFont.Weight.Bold)
                cursor.select(QTextCursor.SelectionType.BlockUnderCursor)
                cursor.mergeCharFormat(heading)
            cursor.mergeBlockFormat(change)
            _tint_inline_code(block, code_char)
        block = block.next()


def _is_code(block: QTextBlock) -> bool:
    return block.isValid() and block.blockFormat().hasProperty(_CODE_FENCE)


def code_boxes(doc: QTextDocument) -> list[QRectF]:
    """The areas of fenced code blocks (runs of code lines), in document coordinates."""
    boxes: list[QRectF] = []
    layout = doc.documentLayout()
    block = doc.begin()
    current: QRectF | None = None
    while block.isValid():
        if _is_code(block):
            rect = layout.blockBoundingRect(block)
            rect = QRectF(0, rect.top(), doc.textWidth(), rect.height())
            current = rect if current is None else current.united(rect)
        elif current is not None:
            boxes.append(current)
            current = None
        block = block.next()
    if current is not None:
        boxes.append(current)
    return boxes


def _tint_inline_code(block: QTextBlock, code_char: QTextCharFormat) -> None:
    spans = []
    it = block.begin()
    while not it.atEnd():
        fragment = it.fragment()
        if fragment.charFormat().fontFixedPitch():
            spans.append((fragment.position(), fragment.length()))
        it += 1
    for position, length in spans:
        cursor = QTextCursor(block.document())
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.mergeCharFormat(code_char)


def document_height(doc: QTextDocument) -> int:
    return math.ceil(doc.size().height())


def hidden_lines_below(doc: QTextDocument, visible_height: float) -> int:
    """Laid-out lines that start below ``visible_height`` (for the "… N more" note)."""
    hidden = 0
    layout = doc.documentLayout()
    block = doc.lastBlock()
    while block.isValid():
        rect = layout.blockBoundingRect(block)
        text_layout = block.layout()
        for i in range(text_layout.lineCount() - 1, -1, -1):
            if rect.top() + text_layout.lineAt(i).y() < visible_height:
                return hidden
            hidden += 1
        block = block.previous()
    return hidden


def estimate_height(text: str, width: int, metrics: Metrics) -> int:
    """A cheap guess at the laid-out height (the idle pass replaces it with the truth).

    It mirrors what ``_style`` does: 6 px between paragraphs, 1 px between list items,
    padded code boxes in the monospace font, slightly larger headings.
    """
    columns = max(10.0, width / metrics.text_char_width)
    code_columns = max(10.0, (width - 2 * _CODE_PAD) / metrics.char_width)
    height = 0.0
    in_code = False
    previous_item = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            height += 2 * _CODE_PAD
            continue
        if in_code:
            height += max(1, math.ceil(len(line) / code_columns)) * metrics.mono_line
            continue
        if not stripped:
            height += 6
            previous_item = False
            continue
        numbered = stripped[:1].isdigit() and ". " in stripped[:4]
        item = numbered or stripped[:2] in ("- ", "* ", "+ ")
        if item and previous_item:
            height += 1
        previous_item = item
        lines = max(1, math.ceil(len(line) / columns))
        if stripped.startswith("#"):
            height += lines * metrics.text_line * 1.3 + 6
        else:
            height += lines * metrics.text_line
    return max(metrics.text_line, math.ceil(height))


def paint_document(
    painter: QPainter,
    doc: QTextDocument,
    x: float,
    y: float,
    clip_height: float,
    text_color: QColor,
    code_background: QColor,
) -> None:
    painter.save()
    painter.translate(x, y)
    context = QAbstractTextDocumentLayout.PaintContext()
    palette = QPalette(context.palette)
    palette.setColor(QPalette.ColorRole.Text, text_color)
    context.palette = palette
    context.clip = QRectF(0, 0, doc.textWidth(), clip_height)
    painter.setClipRect(context.clip, Qt.ClipOperation.IntersectClip)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(code_background)
    for box in code_boxes(doc):
        painter.drawRoundedRect(box.adjusted(0, -_CODE_PAD, 0, _CODE_PAD), 5, 5)
    doc.documentLayout().draw(painter, context)
    painter.restore()


class DocumentCache:
    """The most recently used laid-out documents, keyed by row, version and width.

    A row's older versions go when a newer one is laid out: an answer streaming in makes
    hundreds of versions, which must not push every other row's document out."""

    def __init__(self, capacity: int = 400) -> None:
        self._capacity = capacity
        self._docs: OrderedDict[tuple[int, int, int], QTextDocument] = OrderedDict()
        self._keys_of: dict[int, set[tuple[int, int, int]]] = {}

    def get(
        self,
        key: tuple[int, int, int],
        text: str,
        metrics: Metrics,
        colors: EventColors,
    ) -> QTextDocument:
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
            return doc
        doc = build_document(text, metrics, colors, key[2])
        keys = self._keys_of.setdefault(key[0], set())
        for old in [k for k in keys if k[1] < key[1]]:
            keys.discard(old)
            self._docs.pop(old, None)
        keys.add(key)
        self._docs[key] = doc
        if len(self._docs) > self._capacity:
            gone, _ = self._docs.popitem(last=False)
            self._keys_of.get(gone[0], set()).discard(gone)
        return doc

    def peek(self, key: tuple[int, int, int]) -> QTextDocument | None:
        return self._docs.get(key)

    def clear(self) -> None:
        self._docs.clear()
        self._keys_of.clear()
