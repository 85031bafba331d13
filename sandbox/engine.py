"""Reaching the Docker engine, and turning its failures into the sandbox's typed errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import docker
import docker.errors
import requests.exceptions

from sandbox.errors import ContainerGoneError, EngineUnreachableError, SandboxError

# Transport failures: the engine is down, the socket is missing, the TCP port is closed.
_TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    FileNotFoundError,
)


def connect(client: docker.DockerClient | None = None) -> docker.DockerClient:
    """The given client, or one from the environment (DOCKER_HOST, contexts), checked alive."""
    try:
        client = client or docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnreachableError(_short(exc)) from exc
    except _TRANSPORT_ERRORS as exc:
        raise EngineUnreachableError(_short(exc)) from exc
    return client


def engine_version(timeout: int) -> str:
    """The engine's version, asked with a deadline: a remote host that swallows packets
    answers EngineUnreachableError after ``timeout`` seconds, not after the SDK's minute."""
    client = connect(docker.from_env(timeout=timeout))
    try:
        return str(client.version().get("Version", "?"))
    except _TRANSPORT_ERRORS as exc:
        raise EngineUnreachableError(_short(exc)) from exc
    finally:
        client.close()


@contextlib.contextmanager
def engine_errors(container_ref: str | None = None) -> Iterator[None]:
    """Map transport errors to EngineUnreachableError and a missing container to
    ContainerGoneError, so callers see one vocabulary whatever the SDK raised."""
    try:
        yield
    except SandboxError:
        raise  # already says what happened (NoSuchPathError is also a FileNotFoundError)
    except docker.errors.NotFound as exc:
        if container_ref is not None and "No such container" in str(exc):
            raise ContainerGoneError(
                f"The container {container_ref} is gone (removed outside Berth). "
                "start() makes a new one on the same files."
            ) from exc
        raise
    except _TRANSPORT_ERRORS as exc:
        raise EngineUnreachableError(_short(exc)) from exc
    except docker.errors.DockerException as exc:
        if "Connection" in str(exc) or "connect" in str(exc):
            raise EngineUnreachableError(_short(exc)) from exc
        raise


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
