"""The checkpoint helper's program: one JSON request a line on stdin, one answer a line
on stdout, against one conversation's store (server.Store) or, for Settings, every store
at once (stores.Stores). Runs INSIDE the helper container, stdlib only; kept apart from
server.py so that neither the store nor its parts import what serves them.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable

from sandbox.checkpoints.server import Store
from sandbox.checkpoints.stores import Stores


def serve(store: Store | Stores) -> None:
    operations: dict[str, Callable[..., dict[str, object]]] = {
        "gc": store.gc,
        "prune": store.prune,
        "usage": store.usage,
        "ping": lambda: {"pong": True},
    }
    if isinstance(store, Store):
        operations.update(
            snapshot=store.snapshot,
            restore=store.restore,
            changes=store.changes,
            read=store.read,
            copy_refs=store.copy_refs,
            drop_refs=store.drop_refs,
        )
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            operation = operations[request.pop("op")]
            answer = {"ok": True, "result": operation(**request)}
        except Exception as exc:  # every failure is an answer; the server carries on
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def _more_descriptors() -> None:
    # A walk holds one fd per directory level: a deep tree needs more than 1,024.
    with contextlib.suppress(Exception):
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    _more_descriptors()
    if len(sys.argv) > 2 and sys.argv[1] == "--stores":
        serve(Stores(sys.argv[2]))
    else:
        serve(Store())
