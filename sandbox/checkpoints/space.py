"""The disk space of the checkpoint store, for the Settings dialog: measured without
starting (or building) anything when there is nothing to measure, and pruning."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from sandbox.checkpoints.models import StoreUsage
from sandbox.checkpoints.store import helper_image, store_only, store_volumes
from sandbox.engine import connect
from sandbox.images.berth_image import offline_command
from sandbox.images.offline import image_exists


class NotMeasured(StrEnum):
    """Why the store's space was not measured."""

    NO_STORE = "no_store"  # no conversation's store exists: no checkpoint was ever taken
    NO_HELPER = "no_helper"  # its helper image is not built yet (it is, on first run)


class Pruned(BaseModel):
    model_config = ConfigDict(frozen=True)

    freed: int  # bytes
    usage: StoreUsage  # after pruning


class HelperImage(BaseModel):
    """Whether the checkpoint helper image is on the engine, and how to build it offline."""

    model_config = ConfigDict(frozen=True)

    tag: str
    present: bool
    build_command: str  # builds it with no registry (debootstrap)


def helper_image_status() -> HelperImage:
    """Raises EngineUnreachableError when there is no engine to ask."""
    tag = helper_image()
    present = image_exists(connect(), tag)
    # The helper runs Python, and iproute2 for the network fence (sandbox.network).
    command = offline_command(tag, include="python3,iproute2")
    return HelperImage(tag=tag, present=present, build_command=command)


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
