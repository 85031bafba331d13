"""Telling a failed call from a container that is gone (removed, stopped, killed)."""

from __future__ import annotations

import threading
import time

import docker.errors
from docker.models.containers import Container

from sandbox.engine import engine_errors
from sandbox.errors import ContainerGoneError, EngineUnreachableError, SandboxError, ShellDiedError

# How long a shell that died gives the engine to report its container stopped or removed.
GONE_SETTLE_S = 1.0


def gone_or(container: Container | None, error: SandboxError) -> SandboxError:
    """ContainerGoneError when the container is missing or stopped, else ``error``.

    A shell that died with its container is noticed before the engine has updated the
    container's state: a dead shell gets a short while for the state to settle."""
    if container is None:
        return error
    deadline = time.monotonic() + (GONE_SETTLE_S if isinstance(error, ShellDiedError) else 0)
    while True:
        try:
            with engine_errors():
                container.reload()
        except EngineUnreachableError as exc:
            return exc  # the engine itself went away, not just the shell
        except docker.errors.NotFound:
            return ContainerGoneError(
                f"The container {container.short_id} was removed. start() makes a new one "
                "on the same files."
            )
        except Exception:
            return error
        if container.status not in ("running", "paused"):
            return ContainerGoneError(
                f"The container {container.short_id} is {container.status} (it stopped or "
                "was killed, perhaps out of memory). start() starts it again."
            )
        if time.monotonic() >= deadline:
            return error
        threading.Event().wait(0.05)
