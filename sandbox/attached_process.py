"""A long-lived process in the workspace's container, its stdin, stdout and stderr attached.

It is an exec like the shell's, but without a tty (its stdout is data, not a terminal's
echo), so the engine sends stdout and stderr as frames with an 8-byte header; the docker
SDK's ``frames_iter`` takes them apart. It works wherever the exec attach socket does
(a local socket, TCP to a remote engine). It lives in the container: a pause freezes it,
stopping the container ends it, and Stop (which ends only what the bash tool's command
started, sandbox/warden.py) never touches it, since an exec's process is no child of the
shell.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import re
import socket
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.utils.socket import STDERR, STDOUT, frames_iter

from sandbox import labels
from sandbox.engine import engine_errors
from sandbox.errors import SandboxError
from sandbox.exec_start import wait_started
from sandbox.pause_modes import is_paused_error

# The process's pid in the container, said once on stderr before the program starts, so
# that close() can end a program that does not end when its stdin closes. With a tag, the
# processes an earlier app left with the same tag (it was killed; the container ran on)
# are ended first: bash builtins only, reading each process's environment.
_PID = re.compile(rb"\x1eP(\d+)\x1f")
TAG_VARIABLE = "BERTH_ATTACHED"
_LAUNCH = r"""
if [ -n "$BERTH_ATTACHED" ]; then
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = "$$" ] && continue
        while IFS= read -r -d '' v; do
            if [ "$v" = "BERTH_ATTACHED=$BERTH_ATTACHED" ]; then
                kill -KILL "${p#/proc/}" 2>/dev/null; break
            fi
        done 2>/dev/null < "$p/environ"
    done
fi
printf "\036P%s\037" "$$" >&2
exec "$@"
"""
STDERR_LINES = 40


class AttachedProcess:
    """``read()`` hands out stdout as it comes (b"" at its end); ``write()`` feeds stdin;
    ``stderr_tail()`` keeps stderr's last lines for saying why it died. Thread-safe."""

    def __init__(
        self,
        api: docker.APIClient,
        container_id: str,
        argv: Sequence[str],
        *,
        exec_gate: threading.RLock,
        environment: Mapping[str, str] | None = None,
        workdir: str = labels.WORKDIR,
    ) -> None:
        self._api = api
        self._container_id = container_id
        self._exec_gate = exec_gate
        self.argv = list(argv)
        self._stdout: queue.Queue[bytes] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_partial = b""
        self._stderr_head = b""  # until the pid marker has come
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self.pid: int | None = None  # in the container's pid namespace
        launch = ["bash", "--norc", "--noprofile", "-c", _LAUNCH, "berth-attached", *argv]
        # No freeze while runc starts the exec (sandbox/exec_start.py).
        with self._exec_gate:
            try:
                with engine_errors():
                    created = api.exec_create(
                        container_id,
                        launch,
                        stdin=True,
                        stdout=True,
                        stderr=True,
                        tty=False,
                        environment=dict(environment or {}),
                        workdir=workdir,
                    )
                    self._exec_id: str = created["Id"]
                    self._sock: Any = api.exec_start(self._exec_id, socket=True)
                    wait_started(api, self._exec_id)
            except docker.errors.APIError as exc:
                if is_paused_error(exc):
                    raise SandboxError(
                        "The container is paused: a process cannot start in it now."
                    ) from exc
                raise SandboxError(f"The process could not start: {exc}") from exc
        self._raw: Any = getattr(self._sock, "_sock", self._sock)
        self._reader = threading.Thread(
            target=self._read_loop, name="berth-attached-reader", daemon=True
        )
        self._reader.start()

    # -- streams ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin. BrokenPipeError once it has ended."""
        if self._ended.is_set():
            raise BrokenPipeError("the process has ended")
        with self._lock:
            self._raw.sendall(data)

    def read(self, timeout: float | None = None) -> bytes:
        """The next piece of stdout (b"" once it has ended). queue.Empty after ``timeout``."""
        data = self._stdout.get(timeout=timeout)
        if not data:
            self._stdout.put(b"")  # every later reader sees the end too
        return data

    def stderr_tail(self, lines: int = STDERR_LINES) -> str:
        with self._lock:
            tail = list(self._stderr)
            partial = self._stderr_partial.decode(errors="replace")
        if partial:
            tail.append(partial)
        return "\n".join(tail[-lines:])

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the process's output has ended (it exited or was ended)."""
        return self._ended.wait(timeout)

    def exit_code(self) -> int | None:
        """Its exit code once it has ended (None while it runs, or if the engine forgot)."""
        with contextlib.suppress(Exception):
            code = self._api.exec_inspect(self._exec_id).get("ExitCode")
            return int(code) if code is not None else None
        return None

    # -- the end ---------------------------------------------------------------------------

    def close_stdin(self) -> None:
        """End its stdin only: its output still comes until it ends on its own."""
        with contextlib.suppress(OSError):
            self._raw.shutdown(socket.SHUT_WR)

    def close(self, frozen: bool = False) -> None:
        """Close its stdin (a well-behaved server then exits), end it by its pid, and drop
        the connection. ``frozen``: the container is frozen, so no exec can start; the
        process ends when the container does. Idempotent."""
        with contextlib.suppress(OSError):
            self._raw.shutdown(socket.SHUT_WR)
        if not frozen and self.pid is not None and not self._ended.wait(0.5):
            with contextlib.suppress(Exception), self._exec_gate:
                kill = f"kill -TERM {self.pid} 2>/dev/null; sleep 1; kill -KILL {self.pid}"
                exec_id = self._api.exec_create(self._container_id, ["bash", "-c", kill])["Id"]
                self._api.exec_start(exec_id, detach=True)
                wait_started(self._api, exec_id)
            self._ended.wait(3)  # its output ends as it dies
        with contextlib.suppress(OSError):
            self._raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._sock.close()

    # -- the reader thread -----------------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            for stream, data in frames_iter(self._raw, tty=False):
                if not data:
                    continue
                if stream == STDOUT:
                    self._stdout.put(bytes(data))
                elif stream == STDERR:
                    self._take_stderr(bytes(data))
        except (OSError, ValueError):
            pass
        finally:
            self._ended.set()
            self._stdout.put(b"")

    def _take_stderr(self, data: bytes) -> None:
        if self.pid is None:
            self._stderr_head += data
            found = _PID.search(self._stderr_head)
            if found is None:
                return
            self.pid = int(found.group(1))
            data = self._stderr_head[: found.start()] + self._stderr_head[found.end() :]
            self._stderr_head = b""
        with self._lock:
            *lines, self._stderr_partial = (self._stderr_partial + data).split(b"\n")
            self._stderr.extend(line.decode(errors="replace") for line in lines)


class AttachedProcesses:
    """Mixed into DockerWorkspace, which provides these."""

    _exec_gate: threading.RLock

    @property
    def client(self) -> docker.DockerClient:
        raise NotImplementedError

    @property
    def container(self) -> Container:
        raise NotImplementedError

    def _container_environment(self) -> dict[str, str]:
        raise NotImplementedError

    def _gone_or(self, error: SandboxError) -> SandboxError:
        raise NotImplementedError

    def run_attached(
        self,
        argv: Sequence[str],
        *,
        environment: Mapping[str, str] | None = None,
        workdir: str = labels.WORKDIR,
        tag: str = "",
    ) -> AttachedProcess:
        """Start ``argv`` in the container with its streams attached (the container's
        environment, then ``environment``). With ``tag``, an earlier process of the same
        tag still running there is ended first. SandboxError when it cannot start (the
        container is paused, say); ContainerGoneError when the container is gone."""
        tagged = {TAG_VARIABLE: tag} if tag else {}
        try:
            return AttachedProcess(
                self.client.api,
                str(self.container.id),
                argv,
                exec_gate=self._exec_gate,
                environment={**self._container_environment(), **(environment or {}), **tagged},
                workdir=workdir,
            )
        except SandboxError as exc:  # ContainerGoneError when it was removed or stopped
            gone = self._gone_or(exc)
            if gone is exc:
                raise
            raise gone from exc
