"""Deleting a saved conversation without opening it (so without starting its container).

The folder goes at once; the container and volume are removed by label. With the engine
away, their removal is written down (``pending-removals.json`` beside the conversations)
and done by ``remove_pending()`` when the engine is next reachable: nothing is left behind
for good, and nothing waits on an engine that is not there.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from agent.conversation.persistence import resolve_persistence_dir

if TYPE_CHECKING:
    from sandbox.leftovers import Leftover

log = logging.getLogger(__name__)

PENDING_FILE = "pending-removals.json"
_lock = threading.Lock()


class PendingRemovals(BaseModel):
    """Conversations deleted while the engine was away: their containers and volumes."""

    conversation_ids: list[str] = []


def delete_saved(
    conversation_id: str,
    persistence_dir: str | os.PathLike[str] | None = None,
    *,
    remove_container: bool = True,
) -> bool:
    """Remove the conversation's folder, and with ``remove_container`` its container and
    volume. Returns True when those wait for the engine (it was unreachable)."""
    root = resolve_persistence_dir(persistence_dir)
    shutil.rmtree(root / conversation_id, ignore_errors=True)
    if not remove_container:
        return False
    from sandbox import EngineUnreachableError
    from sandbox.removal import remove_conversation_resources

    try:
        remove_conversation_resources(conversation_id)
    except EngineUnreachableError as exc:
        log.warning("engine unreachable; removing %s's container later: %s", conversation_id, exc)
        _update(root, add=[conversation_id])
        return True
    return False


def pending_removals(persistence_dir: str | os.PathLike[str] | None = None) -> list[str]:
    return _load(resolve_persistence_dir(persistence_dir)).conversation_ids


def remove_pending(persistence_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Remove the containers and volumes left for later; returns the ids done. Blocks on
    Docker; a no-op when nothing is pending or the engine is still away."""
    root = resolve_persistence_dir(persistence_dir)
    ids = _load(root).conversation_ids
    if not ids:
        return []
    from sandbox import EngineUnreachableError
    from sandbox.removal import remove_conversation_resources

    done = []
    for conversation_id in ids:
        try:
            remove_conversation_resources(conversation_id)
        except EngineUnreachableError:
            break
        except Exception:  # one that cannot go must not keep the others
            log.exception("could not remove %s's container", conversation_id)
        done.append(conversation_id)
    _update(root, remove=done)
    return done


def _load(root: Path) -> PendingRemovals:
    try:
        return PendingRemovals.model_validate_json((root / PENDING_FILE).read_bytes())
    except FileNotFoundError:
        return PendingRemovals()
    except (OSError, ValidationError) as exc:
        log.warning("ignoring unreadable %s: %s", root / PENDING_FILE, exc)
        return PendingRemovals()


def _update(root: Path, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
    with _lock:
        ids = [i for i in _load(root).conversation_ids if i not in remove]
        ids += [i for i in add if i not in ids]
        root.mkdir(parents=True, exist_ok=True)
        path = root / PENDING_FILE
        if not ids:
            path.unlink(missing_ok=True)
            return
        temporary = path.with_suffix(".tmp")
        temporary.write_text(PendingRemovals(conversation_ids=ids).model_dump_json())
        os.replace(temporary, path)


def find_leftovers(persistence_dir: str | os.PathLike[str] | None = None) -> list[Leftover]:
    """This installation's containers and volumes whose conversation folder is gone (and
    whose removal is not already waiting for the engine)."""
    from sandbox.leftovers import find_leftovers as on_engine

    root = resolve_persistence_dir(persistence_dir)
    existing = {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    return on_engine(existing | set(_load(root).conversation_ids))
