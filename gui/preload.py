"""Loading the heavy modules in the background, and keeping the garbage collector quiet.

litellm and the Docker SDK take seconds to import; the window imports neither, so it shows
at once, and loads them on a thread of their own after its first paint. Every collection
the interpreter makes holds the GIL (whatever thread it runs on), so a collection over
litellm's hundreds of thousands of objects is a visible hitch on the GUI thread: the
collector's settings here keep such collections rare and small.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

GC_THRESHOLDS = (10_000, 20, 50)


def preload_heavy_modules() -> None:
    """Import litellm and the Docker SDK (seconds of work) so the first send is quick.

    Then move every object alive so far out of the garbage collector's sight: litellm
    brings some hundreds of thousands of long-lived objects, and a full collection
    walking them (it runs on whatever thread allocates, holding the GIL) froze the GUI
    thread for ~400 ms in the middle of runs.
    """
    try:
        from agent.llm import import_litellm

        import_litellm()
        import sandbox  # noqa: F401
    except Exception:  # the real use reports the problem where the user sees it
        log.debug("background preload failed", exc_info=True)
    gc.collect()
    gc.freeze()
    # Fewer, bigger young collections and rarer full ones: each collection holds the GIL,
    # and a full one over a long conversation's objects is a visible hitch.
    gc.set_threshold(GC_THRESHOLDS[0], GC_THRESHOLDS[1], GC_THRESHOLDS[2])


def settle_garbage_collector() -> None:
    """After a run (the user is reading, not waiting): collect the young generations and
    move the survivors out of the collector's sight, so full collections in the next run
    have little to walk. Cheap: young generations are small, freezing is O(1)."""
    gc.collect(1)
    gc.freeze()
