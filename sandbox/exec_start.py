"""Waiting until an exec has really started, before a freeze may come.

A freeze that meets an exec still starting freezes runc's init half-way, and the engine
then answers nothing about that container again (docker 20.10 on cgroup v1: seen as
containers stuck "Paused" that neither unpause nor inspect). An exec started with a
socket or a stream returns as soon as the engine hijacks the connection, before runc has
started anything; ``Running`` is set even earlier. The exec's pid is known only once runc
is done: that is the sign. Callers hold the workspace's exec gate until it comes.
"""

from __future__ import annotations

import time

import docker

START_WAIT_S = 10.0
POLL_S = 0.005


def wait_started(api: docker.APIClient, exec_id: str, timeout: float = START_WAIT_S) -> bool:
    """True once the engine knows the exec's pid (or its end); False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        info = api.exec_inspect(exec_id)
        if info.get("Pid") or info.get("ExitCode") is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
