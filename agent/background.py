"""The one way agent/ runs work in the background: a thread named after what it does.

Every background thread of the engine starts here, so a thread dump (py-spy, faulthandler)
names each one (``berth-llm-1a2b3c4d``, ``berth-checkpoints-1a2b3c4d``) and each says, at
its call site, whether it may outlive the program: ``daemon=True`` for work the process
may abandon at exit (a request in flight, a reader of a pipe), ``daemon=False`` for work
that must finish (a server a caller shuts down and joins).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

PREFIX = "berth-"


def start(name: str, work: Callable[[], object], *, daemon: bool) -> threading.Thread:
    """Run ``work`` on a new thread called ``berth-<name>``; returns the started thread."""
    thread = threading.Thread(target=work, name=PREFIX + name, daemon=daemon)
    thread.start()
    return thread


def conversation_tag(conversation_id: str) -> str:
    """The short form of a conversation's id that its threads' names end with."""
    return conversation_id[:8]
