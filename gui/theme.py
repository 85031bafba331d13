"""The look of the window: a Fusion palette, a light stylesheet, and the status colours.

The status table (``STATUS_COLORS``, ``STATUS_WORDS``, read through ``status_color`` and
``status_word``) is the one place a status gets its colour and its word: the status bar,
the history's rows and the confirmation bar all read it. Which commands a status allows is
not the theme's business: that is agent/session_commands.py.

Widgets that paint themselves (the event view, the file viewer) read the QPalette, so the
palette is the one place colours are decided; the stylesheet only shapes chrome (toolbar,
splitter handles, status bar, composer frame).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from agent.status import AgentStatus

# Light theme, calm greys with one blue accent (close to what GitHub and GNOME use).
WINDOW = "#f6f8fa"
BASE = "#ffffff"
ALT_BASE = "#f6f8fa"
TEXT = "#1f2328"
DIM_TEXT = "#59636e"
BORDER = "#d1d9e0"
ACCENT = "#0969da"
HIGHLIGHT = "#ddf4ff"

# Status in colour: what a glance at the status bar or a history row should tell.
STATUS_COLORS: dict[AgentStatus, str] = {
    AgentStatus.IDLE: "#59636e",
    AgentStatus.RUNNING: "#1a7f37",
    AgentStatus.PAUSED: "#9a6700",
    AgentStatus.WAITING_FOR_CONFIRMATION: "#8250df",
    AgentStatus.FINISHED: "#0969da",
    AgentStatus.ERROR: "#cf222e",
    AgentStatus.STUCK: "#bc4c00",
}

STATUS_WORDS: dict[AgentStatus, str] = {
    AgentStatus.IDLE: "Ready",
    AgentStatus.RUNNING: "Running",
    AgentStatus.PAUSED: "Paused",
    AgentStatus.WAITING_FOR_CONFIRMATION: "Waiting for approval",
    AgentStatus.FINISHED: "Finished",
    AgentStatus.ERROR: "Error",
    AgentStatus.STUCK: "Stuck",
}

# While a conversation's container starts, before its status means anything.
STARTING_WORD = "Starting"
STARTING_COLOR = "#0969da"


def status_color(status: AgentStatus, *, starting: bool = False) -> str:
    return STARTING_COLOR if starting else STATUS_COLORS.get(status, DIM_TEXT)


def status_word(status: AgentStatus, *, starting: bool = False) -> str:
    return STARTING_WORD if starting else STATUS_WORDS.get(status, status.value)


def build_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: ALT_BASE,
        QPalette.ColorRole.ToolTipBase: "#24292f",
        QPalette.ColorRole.ToolTipText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#818b98",
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#f6f8fa",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Light: "#ffffff",
        QPalette.ColorRole.Midlight: "#eaeef2",
        QPalette.ColorRole.Mid: BORDER,
        QPalette.ColorRole.Dark: "#afb8c1",
        QPalette.ColorRole.Shadow: "#8c959f",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.LinkVisited: "#8250df",
    }
    for role, value in roles.items():
        palette.setColor(role, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(disabled, role, QColor("#8c959f"))
    return palette


STYLESHEET = f"""
QMainWindow {{ background: {WINDOW}; }}
QToolBar#main_toolbar {{
    background: {BASE};
    border: none;
    border-bottom: 1px solid {BORDER};
    padding: 4px 8px;
    spacing: 2px;
}}
QToolBar#main_toolbar QToolButton {{
    border: 1px solid transparent;
    border-radius: 6px;
    padding: 4px 8px;
    color: {TEXT};
}}
QToolBar#main_toolbar QToolButton:hover {{ background: #eaeef2; border-color: {BORDER}; }}
QToolBar#main_toolbar QToolButton:pressed {{ background: #d8dee4; }}
QToolBar#main_toolbar QToolButton:disabled {{ color: #8c959f; }}
QToolBar#main_toolbar::separator {{ background: {BORDER}; width: 1px; margin: 6px 6px; }}
QLabel#toolbar_title {{ color: {DIM_TEXT}; padding: 0 6px; }}
QSplitter::handle {{ background: {WINDOW}; }}
QSplitter::handle:hover {{ background: {HIGHLIGHT}; }}
QStatusBar#status_bar {{
    background: {BASE};
    border-top: 1px solid {BORDER};
    color: {DIM_TEXT};
}}
QStatusBar#status_bar::item {{ border: none; }}
QStatusBar#status_bar QLabel {{ color: {DIM_TEXT}; padding: 0 8px; }}
QFrame#composer_frame {{
    background: {BASE};
    border: 1px solid {BORDER};
    border-radius: 8px;
}}
QFrame#composer_frame[focused="true"] {{ border: 1px solid {ACCENT}; }}
QPlainTextEdit#composer {{
    background: transparent;
    border: none;
    padding: 2px;
    selection-background-color: {ACCENT};
}}
QLabel#composer_hint {{ color: {DIM_TEXT}; }}
QToolButton#composer_send {{
    background: {ACCENT};
    color: #ffffff;
    border: none;
    border-radius: 6px;
    padding: 5px 12px;
    font-weight: 600;
}}
QToolButton#composer_send:hover {{ background: #0860ca; }}
QToolButton#composer_send:disabled {{ background: #94bdf0; color: #ffffff; }}
QFrame#panel {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 8px; }}
QLabel#panel_title {{ color: {DIM_TEXT}; font-weight: 600; padding: 2px 2px; }}
QWidget#welcome {{ background: {BASE}; border-radius: 8px; }}
QLabel#welcome_title {{ color: {TEXT}; font-size: 17pt; font-weight: 600; padding: 8px; }}
QLabel#welcome_body {{ color: {DIM_TEXT}; }}
QLabel#welcome_keys {{ color: #818b98; font-size: 9pt; }}
QToolTip {{ color: #ffffff; background: #24292f; border: none; padding: 4px 6px; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion everywhere (the same look on Linux, Windows and macOS), our palette and font."""
    app.setStyle("Fusion")
    app.setPalette(build_palette())
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
