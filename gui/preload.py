"""Loading the heavy modules in the background, and keeping the garbage collector quiet.

litellm and the Docker SDK take seconds to import; the window imports neither, so it shows
at once. A window runs litellm in the LLM helper process (agent/llm_process.py); the
Docker SDK is loaded on a thread of its own after the first paint. Every collection the
interpreter makes holds the GIL (whatever thread it runs on), so a collection over hundreds
of thousands of long-lived objects is a visible hitch on the GUI thread: the collector's
settings here keep such collections rare and small.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QImage, QPainter

if TYPE_CHECKING:
    from gui.event_view import EventView

log = logging.getLogger(__name__)

GC_THRESHOLDS = (10_000, 20, 50)


def preload_heavy_modules() -> None:
    """Route this process's LLM calls through the LLM helper process and start it (it
    imports litellm and rehearses a first completion there: agent/llm_helper.py), then
    import the Docker SDK and what a conversation's start imports on its thread.

    The collector is off meanwhile: an import makes many long-lived objects, and each
    automatic full collection over them holds the GIL on whatever thread allocates (with
    litellm still in this process, six of 65-500 ms froze the GUI thread). Afterwards every
    object alive is moved out of the collector's sight (``gc.freeze``) without a full
    collection first: that collection would be one more such freeze.
    """
    gc.disable()
    try:
        from agent.llm.process import use_helper_process

        use_helper_process().start()  # at once if run_app started it already
        # sandbox (the Docker SDK), and what a conversation's start imports on its own
        # thread: the built-in tools, the checkpoint store (difflib and all).
        import agent.tools  # noqa: F401
        import sandbox.checkpoints  # noqa: F401
    except Exception:  # the real use reports the problem where the user sees it
        log.debug("background preload failed", exc_info=True)
    finally:
        gc.freeze()
        # Fewer, bigger young collections and rarer full ones: each collection holds the
        # GIL, and a full one over a long conversation's objects is a visible hitch.
        gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])
        gc.enable()


def settle_garbage_collector() -> None:
    """After a run (the user is reading, not waiting): collect the young generations and
    move the survivors out of the collector's sight, so full collections in the next run
    have little to walk. Cheap: young generations are small, freezing is O(1)."""
    gc.collect(1)
    gc.freeze()


class _AfterFirstPaint(QObject):
    def __init__(self, window: QObject, then: Callable[[], None]) -> None:
        super().__init__(window)
        self._then = then
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            # Posted from the window's own paint, so it runs once its children have
            # painted too (one pass of the event loop paints them all).
            QTimer.singleShot(0, self._then)
            self.deleteLater()
        return False


def after_first_paint(window: QObject, then: Callable[[], None]) -> None:
    """Call ``then`` once ``window`` has painted for the first time.

    From ``showEvent`` a zero timer fires before the first paint (the paint comes with the
    window's exposure, later): the preload thread started there took the GIL from the
    first paint, in every launch measured."""
    _AfterFirstPaint(window, then)


WARM_UP_MARKDOWN = "A **first** _document_, with `code`:\n\n- a list\n\n```\nls -la\n```\n"


def warm_up_documents(view: EventView) -> None:
    """Lay out and paint (off screen) one markdown document as the event view would: the
    first one costs a few ms more than the next (Qt's markdown reader, the fonts' glyphs),
    better spent before the user sends than as the first message shows."""
    from gui.event_view.markdown import build_document, paint_document

    env = view.event_delegate().env
    width = 400
    doc = build_document(WARM_UP_MARKDOWN, env.metrics, env.colors, width)
    image = QImage(width, 200, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    paint_document(painter, doc, 0, 0, 200, env.colors.text, env.colors.code_background)
    painter.end()
