"""Colours of the event view, derived from the widget's palette.

The accents (green, red, blue, amber) come in a light-theme and a dark-theme shade chosen
by the palette's base lightness; every fill is a blend of an accent into the base colour,
so cards stay readable on whatever theme the desktop uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette

from gui.event_view.rows import Tone

_LIGHT = {
    Tone.SUCCESS: "#1a7f37",
    Tone.DANGER: "#cf222e",
    Tone.INFO: "#0969da",
    Tone.WARNING: "#9a6700",
}
_DARK = {
    Tone.SUCCESS: "#3fb950",
    Tone.DANGER: "#f85149",
    Tone.INFO: "#58a6ff",
    Tone.WARNING: "#d29922",
}


def blend(under: QColor, over: QColor, amount: float) -> QColor:
    """``over`` laid on ``under`` at ``amount`` opacity, as an opaque colour."""
    keep = 1.0 - amount
    return QColor.fromRgbF(
        under.redF() * keep + over.redF() * amount,
        under.greenF() * keep + over.greenF() * amount,
        under.blueF() * keep + over.blueF() * amount,
    )


@dataclass(frozen=True, slots=True)
class EventColors:
    dark: bool
    base: QColor
    text: QColor
    dim: QColor
    faint: QColor
    card: QColor
    card_border: QColor
    inset: QColor
    user: QColor
    user_border: QColor
    selection: QColor
    link: QColor
    code_background: QColor
    accents: dict[Tone, QColor]
    fills: dict[Tone, QColor]

    @classmethod
    def from_palette(cls, palette: QPalette) -> EventColors:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        dark = base.lightnessF() < 0.5
        accents = {tone: QColor(value) for tone, value in (_DARK if dark else _LIGHT).items()}
        accents[Tone.NEUTRAL] = blend(base, text, 0.55)
        # A pale selection colour would make user bubbles vanish: then the blue accent leads.
        if abs(highlight.lightnessF() - base.lightnessF()) < 0.25:
            highlight = accents[Tone.INFO]
        return cls(
            dark=dark,
            base=base,
            text=text,
            dim=blend(base, text, 0.62),
            faint=blend(base, text, 0.22),
            card=blend(base, text, 0.035 if not dark else 0.05),
            card_border=blend(base, text, 0.11),
            inset=blend(base, text, 0.07 if not dark else 0.09),
            user=blend(base, highlight, 0.13 if not dark else 0.24),
            user_border=blend(base, highlight, 0.35),
            selection=highlight,
            link=palette.color(QPalette.ColorRole.Link),
            code_background=blend(base, text, 0.08),
            accents=accents,
            fills={
                tone: blend(base, colour, 0.16 if dark else 0.11)
                for tone, colour in accents.items()
            },
        )

    def accent(self, tone: Tone) -> QColor:
        return self.accents[tone]

    def fill(self, tone: Tone) -> QColor:
        return self.fills[tone]
