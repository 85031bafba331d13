"""A storage limit per conversation, enforced by measuring.

overlay2 on ext4 cannot enforce ``storage_opt size``, so what a conversation stores is
measured instead: the engine's SizeRw (the container's writable layer, from the containers
list with ``size=True``) plus what ``du`` counts under /workspace. That is checked after each
command and every few seconds while one runs; a command that pushed the total past the limit
is ended, and the model and the user read one clear sentence. A full disk (ENOSPC in the
output) says the same, with the figures.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import docker
from pydantic import BaseModel

from sandbox import labels
from sandbox.exec_start import wait_started
from sandbox.models import CommandResult

DEFAULT_LIMIT = "10g"
POLL_S = 3.0  # how often a running command is measured
SHORT_S = 0.3  # a command shorter than this has /workspace measured in the background
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_FACTOR = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_NO_SPACE = "No space left on device"


def parse_size(text: str | int) -> int:
    """Bytes in Docker's spelling of a size ("10g", "50m", "512k", or a plain number)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size (say it like 10g, 500m or 2048k)")
    return int(float(match.group(1)) * _FACTOR[match.group(2).lower()])


def human(size: int) -> str:
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class DiskUsage(BaseModel):
    workspace: int
    other: int

    @property
    def total(self) -> int:
        return self.workspace + self.other


def layer_size(api: docker.APIClient, container_id: str) -> int | None:
    """The container's writable layer (SizeRw): cheap, the engine's own count."""
    try:
        rows = api.containers(all=True, size=True, filters={"id": container_id})
    except Exception:
        return None
    return int(rows[0].get("SizeRw") or 0) if rows else None


def workspace_size(
    api: docker.APIClient, container_id: str, gate: AbstractContextManager[object] | None = None
) -> int | None:
    """What du counts under /workspace, or None when no exec can start (frozen, the pids
    limit full) or du says nothing. ``gate`` is held until the engine says du runs (or
    ran): a freeze that meets an exec still starting wedges the engine (its runc init
    frozen half-way), while a pause need not wait for a long du to end."""
    try:
        with gate or contextlib.nullcontext():
            exec_id = api.exec_create(container_id, ["du", "-skx", labels.WORKDIR], stderr=False)
            chunks = api.exec_start(exec_id["Id"], stream=True)
            if not wait_started(api, exec_id["Id"]):
                raise TimeoutError("du did not start")
        out = b"".join(chunks)
    except Exception:
        return None
    first = (out.decode(errors="replace").split() or ["?"])[0]
    return int(first) * 1024 if first.isdigit() else None


def limit_message(limit: int, usage: DiskUsage | None) -> str:
    figures = (
        f" (/workspace {human(usage.workspace)}, other files {human(usage.other)})"
        if usage is not None
        else ""
    )
    return f"The sandbox's disk limit of {human(limit)} is reached{figures}: delete files to go on."


def disk_full_message(usage: DiskUsage | None) -> str:
    figures = (
        f" (/workspace {human(usage.workspace)}, other files {human(usage.other)})"
        if usage is not None
        else ""
    )
    return f"The sandbox's disk is full{figures}: delete files to go on."


def says_disk_full(output: str) -> bool:
    return _NO_SPACE in output


class Watch:
    """Measures every POLL_S while a command runs; calls ``stop`` once when the total went
    past ``limit`` and above ``floor`` (a command that only deletes is never stopped)."""

    def __init__(self, guard: DiskGuard, limit: int) -> None:
        self._guard = guard
        self._limit = limit
        self._floor = guard.seen.total if guard.seen is not None else 0
        self.tripped: DiskUsage | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="berth-disk-watch", daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()

    def _loop(self) -> None:
        while not self._done.wait(POLL_S):
            usage = self._guard.measure(full=True)
            if usage is None or usage.total <= max(self._limit, self._floor):
                continue
            if not self._done.is_set():
                self.tripped = usage
                self._guard.stop()
            return


class DiskGuard:
    """One workspace's limit (bytes, or None): watches commands and notes their results.

    After a command the writable layer is measured at once (the engine's SizeRw costs a
    few ms); /workspace needs a du exec (~70 ms), so after a short command (which cannot
    have written much) that runs in the background and counts from the next command on."""

    def __init__(
        self,
        limit: int | None,
        sizes: tuple[Callable[[], int | None], Callable[[], int | None]],
        stop: Callable[[], None],
    ) -> None:
        self.limit = limit
        self._layer, self._workspace = sizes
        self.stop = stop
        self.seen: DiskUsage | None = None  # the last figures
        self._lock = threading.Lock()
        self._behind: threading.Thread | None = None

    def measure(self, full: bool) -> DiskUsage | None:
        """Both figures (``full``), or the layer now with /workspace as last measured."""
        other = self._layer()
        known = self.seen.workspace if self.seen is not None else None
        workspace = self._workspace() if full or known is None else known
        if other is None or workspace is None:
            return None
        with self._lock:
            self.seen = DiskUsage(workspace=workspace, other=other)
            return self.seen

    def watch(self) -> contextlib.AbstractContextManager[Watch | None]:
        if self.limit is None:
            return contextlib.nullcontext()
        return Watch(self, self.limit)

    def checked(self, result: CommandResult, watch: Watch | None, ran_s: float) -> CommandResult:
        """The result, with the clear sentence when the limit is passed or the disk full."""
        full = says_disk_full(result.output)
        if self.limit is None and not full:
            return result
        whole = full or ran_s >= SHORT_S
        usage = self.measure(full=whole)
        if not whole and usage is not None and self.limit is not None and usage.total > self.limit:
            usage = self.measure(full=True)  # said only when true now (the agent may have deleted)
        elif not whole:
            self._measure_behind()
        tripped = watch.tripped if watch is not None else None
        if self.limit is not None and (tripped or (usage and usage.total > self.limit)):
            message = limit_message(self.limit, usage or tripped)
        elif full:
            message = disk_full_message(usage)
        else:
            return result
        return result.model_copy(update={"output": f"{result.output}\n[{message}]"})

    def _measure_behind(self) -> None:
        if self._behind is not None and self._behind.is_alive():
            return
        self._behind = threading.Thread(
            target=self.measure, args=(True,), name="berth-disk-measure", daemon=True
        )
        self._behind.start()
