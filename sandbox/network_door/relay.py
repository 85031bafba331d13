"""A way into the conversation's proxy from this machine: a TCP listener on 127.0.0.1
whose every connection is carried by an exec in the proxy container to its 127.0.0.1:3128.

Why an exec and not a published port: the proxy was made without one (publishing needs the
container made again), a published port exists only on the engine's machine (a remote
engine's 127.0.0.1 is not ours), and it would stay open while the container lives. The
exec goes wherever the engine's API does, and the listener lives only while the workspace
is open. Anything on this machine can connect to 127.0.0.1, so each connection must also
carry the relay's token as Proxy-Authorization (the addon checks it on connections from the
proxy's loopback, which only this exec reaches: the agent's container comes from the door
network).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import secrets
import socket
import threading
from collections.abc import Callable

import docker
from docker.models.containers import Container

from sandbox.attached_process import AttachedProcess
from sandbox.errors import SandboxError
from sandbox.network_door.tar_files import tar_files

log = logging.getLogger(__name__)

TOKEN_FILE = "berth/relay-token"  # under /, read by the addon
USER = "berth"
# Both ways at once, until either side ends; stdout unbuffered (the client waits on it).
_CARRY = r"""
import os, socket, sys, threading
upstream = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def up():
    while True:
        data = os.read(0, 65536)
        if not data:
            break
        upstream.sendall(data)
    upstream.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while True:
    data = upstream.recv(65536)
    if not data:
        break
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]
"""
_CHUNK = 65536


class ProxyRelay:
    """``url``: ``http://berth:<token>@127.0.0.1:<port>``, for an HTTP client's proxy=.
    ``find_proxy`` gives the running proxy container (found again for each connection, so
    a proxy started again is still reached). ``close()`` ends the listener and every
    connection."""

    def __init__(
        self, client: docker.DockerClient, find_proxy: Callable[[], Container | None], port: int
    ) -> None:
        self._client = client
        self._find_proxy = find_proxy
        self._port = port
        self.token = secrets.token_urlsafe(24)
        self._closed = threading.Event()
        self._gate = threading.RLock()  # the proxy is never frozen: a gate of its own
        self._open: set[AttachedProcess] = set()
        self._lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._token_written: str | None = None  # the proxy container it was written into
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://{USER}:{self.token}@127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="berth-proxy-relay", daemon=True).start()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):  # wakes the accept() a bare close() would not
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            carried = list(self._open)
        for process in carried:
            process.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _peer = self._listener.accept()
            except OSError:
                return
            threading.Thread(
                target=self._carry, args=(conn,), name="berth-proxy-relay-conn", daemon=True
            ).start()

    def _proxy(self) -> Container:
        found = self._find_proxy()
        if found is None or found.status != "running":
            raise SandboxError("the conversation's network proxy is not running")
        # Once per proxy container, the other connections waiting: a file written again
        # is empty for a moment, and a request read then would be refused.
        with self._token_lock:
            if self._token_written != found.id:
                found.put_archive("/", tar_files({TOKEN_FILE: self.token.encode()}, mode=0o600))
                self._token_written = found.id
        return found

    def _carry(self, conn: socket.socket) -> None:
        # Pieces go on as they come: Nagle's wait for an ACK the peer delays costs ~40 ms.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            proxy = self._proxy()
            argv = ["python3", "-c", _CARRY, str(self._port)]
            process = AttachedProcess(
                self._client.api, str(proxy.id), argv, exec_gate=self._gate, workdir="/"
            )
        except (SandboxError, docker.errors.DockerException, OSError) as exc:
            log.warning("the proxy relay could not reach the proxy: %s", exc)
            with contextlib.suppress(OSError):
                conn.close()
            return
        with self._lock:
            self._open.add(process)
        threading.Thread(target=self._upward, args=(conn, process), daemon=True).start()
        try:
            while True:
                data = process.read()
                if not data:
                    break
                conn.sendall(data)
        except (OSError, queue.Empty):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
            process.close()
            with self._lock:
                self._open.discard(process)
            with contextlib.suppress(OSError):
                conn.close()

    @staticmethod
    def _upward(conn: socket.socket, process: AttachedProcess) -> None:
        """The client's bytes to the exec's stdin; its end closes stdin (the proxy then
        sees the connection end, answers what it has, and the exec ends)."""
        try:
            while True:
                data = conn.recv(_CHUNK)
                if not data:
                    break
                process.write(data)
        except OSError:
            pass
        process.close_stdin()
