"""Every conversation's checkpoint store at once, for Settings (runs in the maintenance
helper, stdlib only): each store is mounted under one folder, and measured, pruned and
garbage-collected by itself, so no conversation's refs ever keep or free another's."""

from __future__ import annotations

import os

from sandbox.checkpoints.server import Store


class Stores:
    """Every conversation's store at once (mounted under one folder): the space they use,
    pruning and gc, each store by itself."""

    def __init__(self, folder: str) -> None:
        self.stores = [Store(os.path.join(folder, name)) for name in sorted(os.listdir(folder))]

    def _sum(self, answers: list[dict[str, object]]) -> dict[str, object]:
        total: dict[str, object] = {}
        for answer in answers:
            for key, value in answer.items():
                total[key] = int(total.get(key, 0)) + int(value)  # type: ignore[call-overload]
        return total

    def usage(self) -> dict[str, object]:
        return self._sum([{"bytes": 0, "objects": 0}, *(s.usage() for s in self.stores)])

    def gc(self) -> dict[str, object]:
        return self._sum([{"removed": 0, "freed": 0}, *(s.gc() for s in self.stores)])

    def prune(self, keep_last: int) -> dict[str, object]:
        return self._sum(
            [{"dropped": 0, "removed": 0, "freed": 0}, *(s.prune(keep_last) for s in self.stores)]
        )
