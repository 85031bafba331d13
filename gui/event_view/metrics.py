"""Fonts and spacing of the event view, computed once per font change."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtGui import QFont, QFontDatabase, QFontMetricsF


@dataclass(frozen=True, slots=True)
class Metrics:
    font: QFont
    bold: QFont
    mono: QFont
    mono_bold: QFont
    caption: QFont
    caption_bold: QFont
    mono_line: int
    mono_ascent: float
    char_width: float
    caption_line: int
    caption_ascent: float
    text_line: int
    text_char_width: float

    # Spacing, in pixels.
    margin_x: int = 14
    gap: int = 5  # above and below every row: cards stand 10 px apart
    pad_x: int = 12
    pad_y: int = 9
    part_gap: int = 6
    radius: float = 8.0
    accent_width: int = 3
    inset_pad_x: int = 9
    inset_pad_y: int = 6
    chip_pad_x: int = 7

    @classmethod
    def from_font(cls, font: QFont) -> Metrics:
        bold = QFont(font)
        bold.setWeight(QFont.Weight.DemiBold)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        size = font.pointSizeF()
        if size > 0:
            mono.setPointSizeF(size * 0.92)
        mono_bold = QFont(mono)
        mono_bold.setWeight(QFont.Weight.DemiBold)
        caption = QFont(font)
        if size > 0:
            caption.setPointSizeF(size * 0.86)
        caption_bold = QFont(caption)
        caption_bold.setWeight(QFont.Weight.DemiBold)
        mono_metrics = QFontMetricsF(mono)
        caption_metrics = QFontMetricsF(caption_bold)
        text_metrics = QFontMetricsF(font)
        return cls(
            font=font,
            bold=bold,
            mono=mono,
            mono_bold=mono_bold,
            caption=caption,
            caption_bold=caption_bold,
            mono_line=math.ceil(mono_metrics.lineSpacing()),
            mono_ascent=mono_metrics.ascent(),
            # Bold and regular cells of a monospace font share one advance.
            char_width=max(1.0, mono_metrics.horizontalAdvance("M")),
            caption_line=math.ceil(caption_metrics.lineSpacing()),
            caption_ascent=caption_metrics.ascent(),
            text_line=math.ceil(text_metrics.lineSpacing()),
            text_char_width=max(1.0, text_metrics.averageCharWidth()),
        )

    @property
    def chip_height(self) -> int:
        return self.caption_line + 4

    @property
    def header_height(self) -> int:
        return max(self.caption_line, self.chip_height)

    def columns(self, width: float) -> int:
        """Monospace characters that fit in ``width`` pixels."""
        return max(8, int(width // self.char_width))
