"""A resident helper process that ends what the agent's shell started, even after a fork bomb.

Stopping a command must also end the background jobs it started, and a fork bomb fills the
container's pids limit so that no new exec (hence no ``kill``) can start. So when the shell
opens, a second, plain bash is started beside it and kept: it reads one word a line and
answers with builtins only (globbing /proc, ``read``, ``kill``), so it never forks.

- ``mark``: remember the process groups of the shell's session (its jobs) before a command.
- ``end-new``: end the groups that appeared since the mark (what the command started,
  background jobs included): SIGSTOP each round until none runs (a stopped process cannot
  fork), then SIGKILL them all.
- ``end-all``: the same for every job of the shell's session (after a pids exhaustion).
- ``oom``: how many OOM kills the kernel counted in the container's memory cgroup since the
  mark (-1 when no counter can be read: no cgroup memory controller, gVisor). The counter
  is raised before the killed process dies, so unlike the engine's events it is never late.
- ``stale``: end every other interactive Berth shell and its session, and other wardens
  (left by an app that was killed: their commands would run on and count against the pids
  limit).
Each answer is ``\\x1eW<count>\\x1f``: how many process groups (or shells) it ended.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from typing import Any

import docker

_ANSWER = re.compile(rb"\x1eW(-?\d+)\x1f")
ANSWER_TIMEOUT = 10.0

_SCRIPT = r"""
shell=$1
shell_args="bash --noediting --noprofile --norc -i"
declare -A before=() groups=() awake=()
oom_at_mark=-1
oom_now() {  # oom=the kernel's OOM-kill count for this cgroup (v2, then v1), or -1
    local file k v
    oom=-1
    for file in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
        [ -r "$file" ] || continue
        while read -r k v; do
            [ "$k" = oom_kill ] && { oom=$v; return; }
        done < "$file"
    done
}
fields() { local s; read -r s < "/proc/$1/stat" 2>/dev/null || return 1; f=(${s##*) }); }
job_groups() {  # groups[g]=1 for each job group; awake[g]=1 when a member still runs
    local p; groups=(); awake=()
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        fields "$p" || continue
        [ "${f[3]}" = "$shell" ] && [ "${f[2]}" != "$shell" ] || continue
        groups[${f[2]}]=1
        case ${f[0]} in T|t|Z|X) ;; *) awake[${f[2]}]=1 ;; esac
    done
}
end_groups() {  # $1: new (since the mark) or all
    local round g n=0 running
    declare -A doomed=()
    for ((round = 0; round < 50; round++)); do
        job_groups
        running=0
        for g in "${!groups[@]}"; do
            [ "$1" = new ] && [ -n "${before[$g]}" ] && continue
            [ -z "${doomed[$g]}" ] && n=$((n + 1))
            doomed[$g]=1
            [ -n "${awake[$g]}" ] || continue
            running=1
            kill -STOP -- "-$g" 2>/dev/null
        done
        [ $running = 0 ] && break
    done
    for g in "${!doomed[@]}"; do
        kill -KILL -- "-$g" 2>/dev/null
        kill -CONT -- "-$g" 2>/dev/null
    done
    count=$n
}
end_stale() {
    local p args n=0 s q
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$shell" ] && continue
        args=()
        while IFS= read -r -d '' s; do args+=("$s"); done < "/proc/$p/cmdline" 2>/dev/null
        if [ "${args[5]}" = berth-warden ] && [ "$p" != "$$" ]; then  # an old warden
            kill -KILL "$p" 2>/dev/null
            continue
        fi
        [ "${args[*]}" = "$shell_args" ] || continue
        n=$((n + 1))
        for q in /proc/[0-9]*; do
            q=${q#/proc/}
            fields "$q" || continue
            [ "${f[3]}" = "$p" ] && kill -KILL "$q" 2>/dev/null
        done
        kill -KILL "$p" 2>/dev/null
    done
    count=$n
}
while IFS= read -r word; do
    count=0
    case $word in
        mark)
            job_groups; before=(); for g in "${!groups[@]}"; do before[$g]=1; done
            oom_now; oom_at_mark=$oom ;;
        oom)
            oom_now; count=-1
            [ "$oom" -ge 0 ] && [ "$oom_at_mark" -ge 0 ] && count=$((oom - oom_at_mark)) ;;
        end-new) end_groups new ;;
        end-all) end_groups all ;;
        stale) end_stale ;;
    esac
    printf '\036W%s\037\n' "$count"
done
"""


class Warden:
    """The helper beside one shell (``shell_pid``). Thread-safe; a dead warden answers -1."""

    def __init__(self, api: docker.APIClient, container_id: str, shell_pid: int) -> None:
        argv = ["bash", "--norc", "--noprofile", "-c", _SCRIPT, "berth-warden", str(shell_pid)]
        exec_id = api.exec_create(container_id, argv, stdin=True, stdout=True, stderr=False)
        self._sock: Any = api.exec_start(exec_id["Id"], socket=True)
        self._raw: Any = getattr(self._sock, "_sock", self._sock)
        self._lock = threading.Lock()
        self._buffer = b""

    def ask(self, word: str, timeout: float = ANSWER_TIMEOUT) -> int:
        """Send one word; the count it answered, or -1 when the warden is gone or slow."""
        with self._lock:
            try:
                self._raw.sendall(word.encode() + b"\n")
                deadline = time.monotonic() + timeout
                while True:
                    match = _ANSWER.search(self._buffer)
                    if match:
                        self._buffer = self._buffer[match.end() :]
                        return int(match.group(1))
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return -1
                    self._raw.settimeout(remaining)
                    data = self._raw.recv(4096)
                    if not data:
                        return -1
                    self._buffer += data
            except OSError:
                return -1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._sock.close()
