"""Naming an out-of-memory kill: "Killed" alone does not say the memory limit did it.

The kernel's OOM killer leaves only SIGKILL behind (exit 137, bash prints "Killed"). The
engine records an "oom" event for the container whenever it fires in the container's
cgroup, so a command that ended like that is checked against the engine's events since
it started: it works on a remote engine and needs nothing in the image.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import docker

from sandbox.models import CommandResult

_UNITS = {"b": ("bytes", 1), "k": ("KiB", 1024), "m": ("MiB", 1024**2), "g": ("GiB", 1024**3)}
# After a command was SIGKILLed: when to look (again) for the engine's OOM event.
OOM_EVENT_WAITS = (0.0, 0.2, 0.4, 0.8)
_KILLED = re.compile(r"(^|\n)([^\n]*: )?Killed\b")


def human_memory(limit: str) -> str:
    """Docker's spelling of a size, as people read it: "2g" -> "2 GiB"."""
    text = limit.strip().lower().removesuffix("b") if limit.strip().lower() != "b" else "b"
    unit = text[-1] if text and text[-1] in _UNITS else "b"
    number = text[:-1] if text and text[-1] in _UNITS else text
    name = _UNITS[unit][0]
    try:
        value = float(number)
    except ValueError:
        return limit
    return f"{value:g} {name}"


def looks_killed(result: CommandResult) -> bool:
    """Ended the way an OOM kill ends (and not by our own timeout or interrupt)."""
    if result.timed_out or result.interrupted or result.still_running:
        return False
    return result.exit_code == 137 or bool(_KILLED.search(result.output))


def oom_kills_since(api: docker.APIClient, container_id: str, since: float) -> int:
    """How many OOM kills the engine reported for the container since ``since``."""
    # The engine takes fractional seconds as text (the stubs know only int and datetime).
    client: Any = api
    events = client.events(
        since=f"{since:.3f}",
        until=f"{time.time():.3f}",
        filters={"container": container_id, "event": "oom"},
        decode=True,
    )
    return sum(1 for event in events if int(event.get("timeNano") or 0) >= since * 1e9)


def oom_kills_awaited(api: docker.APIClient, container_id: str, since: float) -> int:
    """oom_kills_since, asked again a few times: the engine may record the event a moment
    after the command saw its kill."""
    kills = 0
    for wait in OOM_EVENT_WAITS:
        threading.Event().wait(wait)
        kills = oom_kills_since(api, container_id, since)
        if kills:
            break
    return kills


def name_oom(result: CommandResult, memory: str) -> CommandResult:
    note = (
        f"\n[Killed: the command ran out of memory ({human_memory(memory)}, the container's limit) "
        "and the kernel killed it. Use less memory (smaller inputs, fewer parallel jobs), "
        "or raise the memory limit in Settings.]"
    )
    return result.model_copy(update={"output": result.output + note, "out_of_memory": True})
