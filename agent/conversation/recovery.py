"""A container that died or vanished under a conversation is brought back, and the model told.

``docker kill``/``stop``/``rm -f``, an OOM of the main process, or the agent's own
``kill -9 -1``: the tool call fails with ContainerGoneError. The workspace then starts the
stopped container again, or makes a new one on the same volume or host folder with the
conversation's settings (image, network, limits, pause mode: the DockerWorkspace keeps
them). What was lost differs, and the model is told which, in the tool call's result; the
user sees a notice, not an error, and the run goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

log = logging.getLogger(__name__)

# More than this many in one run and the container is not worth bringing back again.
MAX_REVIVALS_PER_RUN = 3


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
