"""How a workspace holds its container still while the user looks around: the pause modes.

- ``freeze``: the engine's pause API (a cgroup freeze). It can fail: under heavy fork and
  CPU load cgroup v1 answers "unable to freeze", and rootless Docker or gVisor cannot freeze
  at all. So the engine's own state is read back, and a failed freeze is retried briefly.
- ``signals``: SIGSTOP to every process of the container but its init (SIGCONT on resume),
  through an exec. The shell is stopped first and continued last: a job control shell that
  saw its command stopped would give the prompt back and end the command.
- ``auto``: freeze, and signals when the freeze did not take.

Whatever happens, the outcome says what is true (``Hold``): frozen, stopped, or running on.
"""

from __future__ import annotations

import threading
from enum import StrEnum

import docker
import docker.errors
from docker.models.containers import Container
from pydantic import BaseModel

FREEZE_ATTEMPTS = 3
FREEZE_RETRY_S = (0.05, 0.15)
# Rounds of SIGSTOP: a process forked while the first one went out is caught by the next.
STOP_ROUNDS = 5


class PauseMode(StrEnum):
    FREEZE = "freeze"
    SIGNALS = "signals"
    AUTO = "auto"


class Hold(StrEnum):
    """What holds the container's processes still, if anything."""

    NONE = "none"  # running (never paused, resumed, or a pause that did not take)
    FROZEN = "frozen"  # the engine's pause (cgroup freezer)
    STOPPED = "stopped"  # SIGSTOP to every process


class PauseOutcome(BaseModel):
    """What a pause achieved, in words a status line can show."""

    hold: Hold
    detail: str = ""  # why a freeze did not take (empty when it did)

    @property
    def held(self) -> bool:
        return self.hold is not Hold.NONE


# The same script stops or continues: $1 is the shell's pid (or 0), $2 STOP or CONT. Bash
# only (no procps in the image); it skips itself, its parent exec and PID 1. For STOP it
# stops the shell first; for CONT it continues the shell last. It prints how many
# processes it left running (STOP) so the caller can tell the stop held.
_SIGNAL_ALL = r"""
shell=$1; sig=$2; me=$$
others() {
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = 1 ] || [ "$p" = "$me" ] || [ "$p" = "$PPID" ] || [ "$p" = "$shell" ] && continue
        printf '%s ' "$p"
    done
}
running() {
    n=0
    for p in $(others); do
        read -r s < /proc/$p/stat 2>/dev/null || continue
        s=${s##*) }
        case ${s%% *} in T|t|Z|X) ;; *) n=$((n + 1)) ;; esac
    done
    echo $n
}
if [ "$sig" = STOP ]; then
    [ "$shell" != 0 ] && kill -STOP "$shell" 2>/dev/null
    for ((round = 0; round < ROUNDS; round++)); do
        pids=$(others); [ -n "$pids" ] && kill -STOP $pids 2>/dev/null
        [ "$(running)" = 0 ] && break
    done
    running
else
    pids=$(others); [ -n "$pids" ] && kill -CONT $pids 2>/dev/null
    [ "$shell" != 0 ] && kill -CONT "$shell" 2>/dev/null
    echo 0
fi
""".replace("ROUNDS", str(STOP_ROUNDS))


def engine_paused(container: Container) -> bool:
    """The engine's word on whether the container is frozen (read afresh)."""
    container.reload()
    state = container.attrs.get("State") or {}
    return bool(state.get("Paused")) or container.status == "paused"


def freeze(container: Container) -> str:
    """Freeze ``container``, checking the engine's state; '' when it took, else why not."""
    reason = "the engine did not report the container paused"
    for attempt in range(FREEZE_ATTEMPTS):
        try:
            container.pause()
        except docker.errors.APIError as exc:
            if "already paused" not in str(exc):
                reason = _short(exc)
        if engine_paused(container):
            return ""
        if attempt < len(FREEZE_RETRY_S):
            threading.Event().wait(FREEZE_RETRY_S[attempt])
    return reason


def signal_all(api: docker.APIClient, container_id: str, shell_pid: int | None, sig: str) -> int:
    """SIGSTOP or SIGCONT every process of the container; returns how many still run."""
    argv = ["bash", "-c", _SIGNAL_ALL, "berth-signal", str(shell_pid or 0), sig]
    exec_id = api.exec_create(container_id, argv, stdout=True, stderr=False)["Id"]
    output = api.exec_start(exec_id).decode("utf-8", "replace").strip().splitlines()
    if api.exec_inspect(exec_id).get("ExitCode") not in (0, None) or not output:
        raise RuntimeError(f"the signal script failed: {' '.join(output)[-200:]!r}")
    last = output[-1].strip()
    return int(last) if last.isdigit() else -1


def is_paused_error(exc: docker.errors.APIError) -> bool:
    """The engine refused an exec because the container is frozen."""
    return exc.status_code == 409 and "paused" in str(exc)


def _short(exc: docker.errors.APIError) -> str:
    explanation = getattr(exc, "explanation", None) or str(exc)
    return str(explanation).strip().splitlines()[0][:200]
