"""The disk space of the checkpoint store, for the Settings dialog: measured without
starting (or building) anything when there is nothing to measure, and pruning."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from sandbox.checkpoints.models import StoreUsage
from sandbox.checkpoints.store import helper_image, store_only, store_volumes
from sandbox.engine import connect
from sandbox.images.offline import image_exists


class NotMeasured(StrEnum):
    """Why the store's space was not measured."""

    NO_STORE = "no_store"  # no conversation's store exists: no checkpoint was ever taken
    NO_HELPER = "no_helper"  # its helper image is not built yet (it is, on first run)


class Pruned(BaseModel):
    model_config = ConfigDict(frozen=True)

    freed: int  # bytes
    usage: StoreUsage  # after pruning


def measure_store() -> StoreUsage | NotMeasured:
    """The store's usage, or why it was not measured. Raises EngineUnreachableError (and
    CheckpointError) like any store call."""
    client = connect()
    if not store_volumes(client):
        return NotMeasured.NO_STORE
    if not image_exists(client, helper_image()):
        return NotMeasured.NO_HELPER
    store = store_only(client)
    try:
        return store.usage()
    finally:
        store.close()


def prune_store(keep_last: int) -> Pruned:
    """Every conversation keeps its first and newest ``keep_last`` checkpoints."""
    store = store_only()
    try:
        freed = store.prune(keep_last)
        return Pruned(freed=freed, usage=store.usage())
    finally:
        store.close()
