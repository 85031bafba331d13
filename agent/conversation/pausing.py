"""What a pause did to the command in flight, said truthfully.

The workspace holds the container still as its pause mode says (sandbox.pause_modes); this
turns the outcome into the status line the user reads. A pause that did not take never
reads as one that did: the command goes on running, and Stop ends it.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

log = logging.getLogger(__name__)

HoldWord = Literal["frozen", "stopped", "running"]


def hold_command(workspace: Any) -> tuple[HoldWord, str]:
    """Hold the container's processes still; (what holds them, the status detail)."""
    try:
        outcome = workspace.suspend()
    except Exception as exc:  # the engine went away, say: the pause itself still happens
        log.warning("could not pause the container: %s", exc)
        return "running", _runs_on(str(exc))
    hold = str(outcome.hold)
    if hold == "frozen":
        return "frozen", "Paused while a command ran; the container is frozen"
    if hold == "stopped":
        why = f" (the freeze failed: {outcome.detail})" if outcome.detail else ""
        return "stopped", (
            f"Paused while a command ran; the container's processes are stopped (SIGSTOP){why}"
        )
    log.warning("the pause did not hold the container: %s", outcome.detail)
    return "running", _runs_on(outcome.detail)


def _runs_on(reason: str) -> str:
    return (
        "Paused, but the command goes on running: the container could not be frozen"
        + (f" ({reason})" if reason else "")
        + ". Stop ends it."
    )
