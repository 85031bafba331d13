"""Recovery: a conversation reopened after a crash or a quit, and a container that died or
vanished under a conversation, brought back with the model told.

On reopen, a run left RUNNING becomes PAUSED and each tool call left without a result gets
one (``recover_after_reopen``).

A container that died or vanished (``revive``):

``docker kill``/``stop``/``rm -f``, an OOM of the main process, or the agent's own
``kill -9 -1``: the tool call fails with ContainerGoneError. The workspace then starts the
stopped container again, or makes a new one on the same volume or host folder with the
conversation's settings (image, network, limits, pause mode: the DockerWorkspace keeps
them). What was lost differs, and the model is told which, in the tool call's result; the
user sees a notice, not an error, and the run goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agent.status import AgentStatus

if TYPE_CHECKING:
    from agent.conversation.engine import Engine

log = logging.getLogger(__name__)

# More than this many in one run and the container is not worth bringing back again.
MAX_REVIVALS_PER_RUN = 3

APP_STOPPED_TEXT = (
    "The app stopped while this tool call was running, so its result is unknown. "
    "Check the current state (files, processes) before relying on it."
)


def recover_after_reopen(engine: Engine) -> None:
    """After a crash or a quit: a run left RUNNING becomes PAUSED, and each tool call
    left without a result gets one. A container left frozen stays frozen (the status
    says so) until the user resumes: reopening never thaws it behind their back."""
    waiting = engine.status == AgentStatus.WAITING_FOR_CONFIRMATION
    if not waiting:
        engine.answer_pending(APP_STOPPED_TEXT, "app_stopped")
    frozen = bool(getattr(engine.workspace, "frozen", False))
    if engine.status == AgentStatus.RUNNING:
        engine.set_status(
            AgentStatus.PAUSED,
            "The app stopped while the agent ran; "
            + (
                "the container is still frozen; run() thaws it and resumes"
                if frozen
                else "run() resumes"
            ),
        )
    elif frozen and engine.status == AgentStatus.PAUSED:
        engine.set_status(AgentStatus.PAUSED, "Paused; the container is frozen")


class Revival(BaseModel):
    """What bringing the container back did, for the model and for the user."""

    recreated: bool  # a new container (the old one was removed), not the old one restarted
    for_model: str
    title: str
    detail: str


def revive(workspace: Any, error: BaseException) -> Revival | None:
    """Start the container again or recreate it; None when that failed too (logged)."""
    before = _container_id(workspace)
    try:
        workspace.start()
    except Exception as exc:
        log.warning("could not bring the container back after %s: %s", error, exc)
        return None
    recreated = _container_id(workspace) != before
    lost = "every process (background jobs, servers), the shell's working directory and variables"
    if recreated:
        lost += ", and every file outside /workspace (installed packages too)"
        how = "Berth made a new container on the same /workspace"
        title = "The container was gone; Berth made a new one"
    else:
        how = "Berth started it again"
        title = "The container stopped; Berth started it again"
    for_model = (
        f"The container stopped or was removed while this tool call ran ({error}), so its "
        f"result is lost. {how}, with the same image, network and limits. Lost: {lost}. "
        "Files in /workspace are kept. Check the state and re-run what you need."
    )
    detail = f"Lost: {lost}. Files in /workspace are kept; the agent was told and goes on."
    return Revival(recreated=recreated, for_model=for_model, title=title, detail=detail)


def _container_id(workspace: Any) -> str | None:
    container = getattr(workspace, "_container", None)
    return getattr(container, "id", None)
