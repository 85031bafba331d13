"""Holding the agent's container still while a checkpoint reads /workspace or a rewind
writes it, and ending every process the agent left before a rewind.

A checkpoint runs beside the next LLM call, while the agent's processes may run on; the
helper walks by fd so no swap can send it elsewhere, but what it reads should also be one
moment of the workspace. So the container is frozen meanwhile, and let go after, unless the
user's pause holds it: that pause is never undone here.

A rewind must not race the agent: a background job, a ``setsid`` daemon or a loop that
swaps directories for symlinks would write into (or redirect) what the checkpoint helper is
restoring. So all of them end first, everything but the container's init (PID 1) and its
main process (init's first child, ``sleep infinity``), which keep the container up. Bash
builtins only (the image may have nothing else): rounds of SIGSTOP until nothing of them
runs (a stopped process cannot fork), then SIGKILL, as the warden does for one shell.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import docker

from sandbox.pause_modes import Hold

if TYPE_CHECKING:
    from sandbox.workspace import DockerWorkspace

log = logging.getLogger(__name__)

_END_ALL = r"""
me=$$; main=
for p in /proc/[0-9]*; do  # init's first child: the container's main process
    p=${p#/proc/}
    read -r s < "/proc/$p/stat" 2>/dev/null || continue
    f=(${s##*) })
    [ "${f[1]}" = 1 ] || continue
    if [ -z "$main" ] || [ "$p" -lt "$main" ]; then main=$p; fi
done
others() {
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = 1 ] || [ "$p" = "$me" ] || [ "$p" = "$main" ] && continue
        printf '%s ' "$p"
    done
}
for ((round = 0; round < 20; round++)); do
    running=0
    for p in $(others); do
        read -r s < "/proc/$p/stat" 2>/dev/null || continue
        s=${s##*) }
        case ${s%% *} in T|t|Z|X) ;; *) running=1; kill -STOP "$p" 2>/dev/null ;; esac
    done
    [ $running = 0 ] && break
done
n=0
for p in $(others); do kill -KILL "$p" 2>/dev/null && n=$((n + 1)); done
echo "ended=$n"
"""


def end_all(api: docker.APIClient, container_id: str) -> int:
    """End every process but init and the main one; how many were ended (-1: unknown)."""
    try:
        exec_id = api.exec_create(container_id, ["bash", "--norc", "--noprofile", "-c", _END_ALL])
        output = api.exec_start(exec_id["Id"]).decode(errors="replace")
    except Exception as exc:  # a rewind goes on: the helper walks by fd whatever runs
        log.warning("could not end the processes in %s: %s", container_id[:12], exc)
        return -1
    for line in output.splitlines():
        if line.startswith("ended="):
            return int(line.removeprefix("ended="))
    return -1


@contextlib.contextmanager
def held_still(workspace: DockerWorkspace) -> Iterator[None]:
    """Every process of the workspace held still while the body runs, then let go; unless
    a pause held them already, or one came meanwhile and took the freeze over
    (sandbox/brief_freeze.py). A container the engine cannot freeze is read live: the
    helper walks by fd, so what runs on cannot send it elsewhere."""
    if not workspace.started or workspace.hold is not Hold.NONE:
        yield
        return
    unpaused = lambda: workspace.hold is Hold.NONE  # noqa: E731 - asked under the gate
    with workspace.brief_freeze.held(workspace.container, unpaused):
        yield


def end_processes(workspace: DockerWorkspace) -> int:
    """End every process but the container's init and main one (the shell, its jobs, any
    daemon the agent left, setsid ones too), thawing a paused container for it and holding
    it again after. Call ``workspace.restart_shell()`` once done with the files: a pause
    right after a new exec can wedge the engine. Returns how many ended (-1: unknown)."""
    if not workspace.started:
        return -1
    held = workspace.hold is not Hold.NONE
    if held:
        workspace.thaw()
    # A pause must not meet this exec starting (it would wedge the engine): hold the gate.
    with workspace._exec_gate:
        ended = end_all(workspace.client.api, str(workspace.container.id))
    if held:
        workspace.suspend()
    return ended
