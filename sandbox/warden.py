"""A resident helper process that ends what the agent's shell started, even after a fork bomb.

Stopping a command must also end the background jobs it started, and a fork bomb fills the
container's pids limit so that no new exec (hence no ``kill``) can start. So when the shell
opens, a second, plain bash is started beside it and kept: it reads one word a line and
answers with builtins only (globbing /proc, ``read``, ``kill``), so it never forks.

- ``mark``: remember the container's processes (pid and start time) before a command.
- ``end-new``: end every process of the container that appeared since the mark and came
  from the shell or was handed to init (what the command started: background jobs and
  ``setsid`` daemons too; never another exec's processes, the shell, init or the warden):
  SIGSTOP each round until none runs (a stopped process cannot fork), then SIGKILL them all.
  A process is told apart from an earlier one of the same pid by its start time.
- ``end-all``: the same for every job of the shell's session (after a pids exhaustion).
- ``oom``: how many OOM kills the kernel counted in the container's memory cgroup since the
  mark (-1 when no counter can be read: no cgroup memory controller, gVisor). The counter
  is raised before the killed process dies, so unlike the engine's events it is never late.
- ``stale``: end every other interactive Berth shell and its session, and other wardens
  (left by an app that was killed: their commands would run on and count against the pids
  limit).
Each answer is ``\\x1eW<count>\\x1f``: how many processes (end-new), process groups (end-all) or
shells (stale) it ended.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from typing import Any

import docker

from sandbox.exec_start import wait_started

_ANSWER = re.compile(rb"\x1eW(-?\d+)\x1f")
ANSWER_TIMEOUT = 10.0

_SCRIPT = r"""
shell=$1
shell_args="bash --noediting --noprofile --norc -i"
declare -A awake=() existed=() start=() parent=() group=() session=()
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
snapshot() {  # start time, parent, group, session of every live process; awake: still runs
    local p; start=(); parent=(); group=(); session=(); awake=()
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        fields "$p" || continue
        case ${f[0]} in Z|X) continue ;; T|t) ;; *) awake[$p]=1 ;; esac
        start[$p]=${f[19]}; parent[$p]=${f[1]}; group[$p]=${f[2]}; session[$p]=${f[3]}
    done
}
from_shell() {  # true when $1 descends from the shell or from init (an orphan, a daemon)
    local q=$1 n
    for ((n = 0; n < 4096; n++)); do
        if [ "$q" = "$shell" ] || [ "$q" = 1 ]; then return 0; fi
        q=${parent[$q]}
        if [ -z "$q" ] || [ "$q" = 0 ]; then return 1; fi  # another exec's, or gone
    done
    return 1
}
new_since_mark() { [ "${existed[$1]}" != "${start[$1]}" ] && from_shell "$1"; }
shell_job() { [ "${session[$1]}" = "$shell" ] && [ "${group[$1]}" != "$shell" ]; }
end_procs() {  # $1: the test a process must pass; count=processes ended (groups for jobs)
    local round p running
    declare -A doomed=() leaders=() groups_hit=()
    for ((round = 0; round < 50; round++)); do
        snapshot
        running=0
        for p in "${!start[@]}"; do
            if [ "$p" = "$$" ] || [ "$p" = "$shell" ] || [ "$p" = 1 ]; then continue; fi
            "$1" "$p" || continue
            doomed[$p]=1
            groups_hit[${group[$p]}]=1
            [ "${group[$p]}" = "$p" ] && leaders[$p]=1
            [ -n "${awake[$p]}" ] || continue
            running=1
            kill -STOP "$p" 2>/dev/null
            # a group whose leader is doomed: stopped whole, so no member forks on meanwhile
            [ -n "${leaders[${group[$p]}]}" ] && kill -STOP -- "-${group[$p]}" 2>/dev/null
        done
        [ $running = 0 ] && break
    done
    for p in "${!leaders[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
    for p in "${!doomed[@]}"; do
        kill -KILL "$p" 2>/dev/null
        kill -CONT "$p" 2>/dev/null
    done
    count=${#doomed[@]}
    [ "$1" = shell_job ] && count=${#groups_hit[@]}
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
            snapshot; existed=(); for g in "${!start[@]}"; do existed[$g]=${start[$g]}; done
            oom_now; oom_at_mark=$oom ;;
        oom)
            oom_now; count=-1
            [ "$oom" -ge 0 ] && [ "$oom_at_mark" -ge 0 ] && count=$((oom - oom_at_mark)) ;;
        end-new) end_procs new_since_mark ;;
        end-all) end_procs shell_job ;;
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
        # The caller holds the exec gate: no freeze until runc is done (sandbox/exec_start.py).
        wait_started(api, exec_id["Id"])
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
