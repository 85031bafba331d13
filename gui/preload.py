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


def preload_heavy_modules(model: str | None = None) -> None:
    """Import litellm and the Docker SDK (seconds of work), then rehearse a first
    completion on a loopback server and load ``model``'s tokenizer (the rest of litellm's
    first call: agent/llm_rehearsal.py), so the first send is quick.

    The collector is off meanwhile: litellm makes some hundreds of thousands of long-lived
    objects, and each automatic full collection over them (six of 65-500 ms on 2 cores,
    on whatever thread allocates, holding the GIL) froze the GUI thread; the import itself
    is faster without them. Afterwards every object alive is moved out of the collector's
    sight (``gc.freeze``) without a full collection first: that collection would be one
    more such freeze, to reclaim some 2,000 objects of import-time garbage.
    """
    gc.disable()
    try:
        from agent.llm import import_litellm

        import_litellm()
        import sandbox  # noqa: F401
        from agent.llm_rehearsal import rehearse_first_completion

        rehearse_first_completion(model)
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
