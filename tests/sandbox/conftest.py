"""Sandbox fixtures: one workspace per module and engine, the engine local or reached by TCP.

The "tcp" engine is a real engine reached over TCP: $BERTH_TEST_DOCKER_TCP when CI gave
dockerd a TCP listener, else a small forwarder here from 127.0.0.1 to the engine's unix
socket. Either way the workspace is made from DOCKER_HOST alone, as a user's would be.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from sandbox import DockerWorkspace
from tests.support.workspaces import started_workspace, workspace_factory

DEFAULT_SOCKET = "/var/run/docker.sock"


class TcpForwarder:
    """127.0.0.1:<port> -> a unix socket, both ways, for every connection (hijacked too)."""

    def __init__(self, unix_path: str) -> None:
        self.unix_path = unix_path
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> TcpForwarder:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.unix_path)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(256 * 1024):
                dst.sendall(data)
        except OSError:
            # One side broke (e.g. the engine answered early and hung up): drop both, as
            # a real TCP connection would, instead of leaving the other end hanging.
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.close()
            return
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def docker_host(value: str | None) -> Iterator[None]:
    """DOCKER_HOST set to ``value`` for the block (None: leave the environment alone)."""
    if value is None:
        yield
        return
    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = previous


@pytest.fixture(scope="session")
def tcp_engine(docker_client) -> Iterator[str]:
    """A DOCKER_HOST value that reaches the same engine over TCP."""
    given = os.environ.get("BERTH_TEST_DOCKER_TCP")
    if given:
        yield given
        return
    local = os.environ.get("DOCKER_HOST", f"unix://{DEFAULT_SOCKET}")
    if not local.startswith("unix://"):
        yield local  # already remote
        return
    forwarder = TcpForwarder(local.removeprefix("unix://")).start()
    yield f"tcp://127.0.0.1:{forwarder.port}"
    forwarder.close()


@pytest.fixture(scope="module", params=["local", "tcp"])
def engine(request, docker_client) -> str | None:
    """None for the engine of the environment, or a tcp:// DOCKER_HOST for the remote run."""
    if request.param == "tcp":
        return request.getfixturevalue("tcp_engine")
    return None


@pytest.fixture(scope="module")
def ws(engine, sandbox_image) -> Iterator[DockerWorkspace]:
    """One started workspace for the module, made through DOCKER_HOST when remote."""
    with contextlib.ExitStack() as stack:
        with docker_host(engine):
            workspace = stack.enter_context(started_workspace(sandbox_image))
        yield workspace


@pytest.fixture
def make_ws(sandbox_image) -> Iterator[Callable[..., DockerWorkspace]]:
    """A factory of workspaces of their own, for tests that break or reconfigure them."""
    with workspace_factory(sandbox_image) as make:
        yield make
