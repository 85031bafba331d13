"""CheckpointStore: the host's handle on one workspace's checkpoints, kept by a helper.

The helper is a small container of its own (Berth's image, or $BERTH_CHECKPOINT_IMAGE) that
mounts what the agent's container has at /workspace (the same named volume, or the same
host folder) and the store volume at /store, and runs ``server.py`` (uploaded through the
archive API) behind an exec attach socket. So a checkpoint needs nothing in the agent's
image, works while the agent's container is frozen (the helper is not), and needs no host
path on a remote engine: only JSON lines cross the wire.

The helper holds no state the store does not (the stat cache only saves time), so it is
made on first use, removed on close, and made again after a crash.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import socket
import struct
import tarfile
import threading
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from sandbox import labels
from sandbox.checkpoints.models import (
    FileChange,
    RestoreResult,
    Snapshot,
    StoreUsage,
    WorkspaceMount,
)
from sandbox.engine import connect, engine_errors
from sandbox.errors import ImageMissingError, SandboxError
from sandbox.images.berth_image import default_tag, ensure_image, offline_hint

STORE_VOLUME = "berth-checkpoints"
IMAGE_ENV = "BERTH_CHECKPOINT_IMAGE"
VOLUME_ENV = "BERTH_CHECKPOINT_VOLUME"
# berth.managed lets the orphan reaper clear exited helpers.
OF_LABEL = labels.CHECKPOINTS_OF
SERVER_SOURCE = Path(__file__).with_name("server.py")
SERVER_DIR = "/opt/berth"
SERVER_ARGV = ["python3", "-u", "-S", f"{SERVER_DIR}/server.py"]
# The helper only reads and writes files; it needs no more than this.
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID"]


class CheckpointError(SandboxError):
    """A checkpoint, a rewind or a diff could not be made; the message says why."""


def helper_image() -> str:
    """$BERTH_CHECKPOINT_IMAGE, else Berth's own image (it has Python)."""
    return os.environ.get(IMAGE_ENV) or default_tag()


def default_store_volume() -> str:
    """The volume holding every conversation's checkpoints (one store: forks share content)."""
    return os.environ.get(VOLUME_ENV) or STORE_VOLUME


def helper_name(conversation_id: str) -> str:
    return f"berth-checkpoints-{conversation_id}"


def workspace_mount(container: Container) -> WorkspaceMount:
    """What the agent's container has at /workspace, as another container can mount it."""
    for mount in container.attrs.get("Mounts", []):
        if mount.get("Destination") == labels.WORKDIR:
            if mount.get("Type") == "volume":
                return WorkspaceMount(kind="volume", source=mount["Name"])
            return WorkspaceMount(kind="bind", source=mount["Source"])
    raise CheckpointError(
        f"The container {container.short_id} has nothing mounted at {labels.WORKDIR}, so its "
        "files cannot be checkpointed."
    )


class _Session:
    """One server process in the helper: JSON lines over the exec attach socket."""

    def __init__(self, api: docker.APIClient, container_id: str) -> None:
        exec_id = api.exec_create(container_id, SERVER_ARGV, stdin=True, tty=False)["Id"]
        self._sock = api.exec_start(exec_id, socket=True)
        self._raw: Any = getattr(self._sock, "_sock", self._sock)
        self._buf = bytearray()
        self._out = bytearray()
        self._err = bytearray()

    def call(self, request: dict[str, Any]) -> Any:
        self._raw.sendall(json.dumps(request).encode() + b"\n")
        while (end := self._out.find(b"\n")) < 0:
            self._read_frame()
        line = bytes(self._out[:end])
        del self._out[: end + 1]
        answer = json.loads(line)
        if not answer.get("ok"):
            raise CheckpointError(
                f"The checkpoint store refused {request['op']}: {answer['error']}"
            )
        return answer["result"]

    def _read_frame(self) -> None:
        # Without a tty the engine multiplexes: an 8-byte header (stream, size) per frame.
        header = self._read_exactly(8)
        stream, size = header[0], struct.unpack(">I", header[4:8])[0]
        data = self._read_exactly(size)
        (self._out if stream == 1 else self._err).extend(data)

    def _read_exactly(self, size: int) -> bytes:
        recv = getattr(self._raw, "recv", None) or self._raw.read
        while len(self._buf) < size:
            data = recv(max(65536, size - len(self._buf)))
            if not data:
                tail = self._err.decode(errors="replace").strip()[-500:]
                raise CheckpointError(
                    "The checkpoint helper stopped" + (f": {tail}" if tail else ".")
                )
            self._buf.extend(data)
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._sock.close()


class CheckpointStore:
    """The checkpoints of one conversation's /workspace. Thread-safe; calls are serialised."""

    def __init__(
        self,
        conversation_id: str,
        mount: WorkspaceMount | None,
        *,
        client: docker.DockerClient | None = None,
        image: str | None = None,
        store_volume: str | None = None,
    ) -> None:
        self.conversation_id = conversation_id
        self.mount = mount
        self.image = image or helper_image()
        self.store_volume = store_volume or default_store_volume()
        self._client = client
        self._container: Container | None = None
        self._session: _Session | None = None
        self._lock = threading.Lock()

    # -- the helper ------------------------------------------------------------------------

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect()
        return self._client

    @property
    def container(self) -> Container | None:
        return self._container

    def start(self) -> None:
        """Find or make the helper and its server. Idempotent."""
        with self._lock:
            self._ensure_session()

    def _ensure_session(self) -> _Session:
        if self._session is not None:
            return self._session
        with engine_errors():
            container = self._find_or_create()
            self._session = _Session(self.client.api, str(container.id))
        return self._session

    def _find_or_create(self) -> Container:
        client = self.client
        found = client.containers.list(
            ignore_removed=True, all=True, filters={"label": f"{OF_LABEL}={self.conversation_id}"}
        )
        for container in found:
            if container.status == "running" and self._mounts_ok(container):
                self._container = container
                return container
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        try:
            ensure_image(client, self.image)
        except SandboxError as exc:
            raise CheckpointError(
                f"The checkpoint helper's image {self.image} is missing: {exc}"
            ) from exc
        volumes = {self.store_volume: {"bind": "/store", "mode": "rw"}}
        if self.mount is not None:  # None: the store alone (space used, pruning)
            volumes[self.mount.source] = {"bind": labels.WORKDIR, "mode": "rw"}
        try:
            container = client.containers.run(
                self.image,
                ["sleep", "infinity"],
                detach=True,
                init=True,
                name=helper_name(self.conversation_id),
                labels={**labels.ours(), OF_LABEL: self.conversation_id},
                volumes=volumes,
                network_mode="none",
                security_opt=["no-new-privileges:true"],
                cap_drop=["ALL"],
                cap_add=CAPABILITIES,
                mem_limit="512m",
                pids_limit=64,
            )
        except docker.errors.ImageNotFound as exc:
            raise ImageMissingError(self.image, offline_hint(self.image)) from exc
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # a helper of that name left by a crash: replace it
                raise
            with contextlib.suppress(docker.errors.NotFound):
                client.containers.get(helper_name(self.conversation_id)).remove(force=True)
            return self._find_or_create()
        container.put_archive(os.path.dirname(SERVER_DIR), _server_tar())
        self._container = container
        return container

    def _mounts_ok(self, container: Container) -> bool:
        if self.mount is None:
            return True
        try:
            return workspace_mount(container) == self.mount
        except CheckpointError:
            return False

    def close(self) -> None:
        """Stop the server and remove the helper (the store volume keeps everything)."""
        with self._lock:
            self._drop_session()
            container, self._container = self._container, None
            if container is not None:
                with contextlib.suppress(Exception):
                    container.remove(force=True)

    def _drop_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    # -- calls -----------------------------------------------------------------------------

    def _call(self, op: str, **args: Any) -> Any:
        with self._lock:
            session = self._ensure_session()
            try:
                with engine_errors():
                    return session.call({"op": op, **args})
            except CheckpointError as exc:
                if "refused" not in str(exc):
                    self._drop_session()  # the server died: the next call starts another
                raise
            except (OSError, ValueError) as exc:
                self._drop_session()
                raise CheckpointError(f"The checkpoint helper failed: {exc}") from exc

    def snapshot(self, ref: str | None = None) -> Snapshot:
        """Scan /workspace into the store; with ``ref`` the result is kept as a checkpoint."""
        return Snapshot.model_validate(
            self._call("snapshot", conversation=self.conversation_id, ref=ref)
        )

    def restore(self, tree: str) -> RestoreResult:
        """Make /workspace exactly what ``tree`` holds. Idempotent: run it again after a crash."""
        return RestoreResult.model_validate(
            self._call("restore", conversation=self.conversation_id, tree=tree)
        )

    def changes(self, old: str, new: str | None = None) -> list[FileChange]:
        """What changed from ``old`` to ``new`` (None: /workspace as it is now)."""
        result = self._call("changes", conversation=self.conversation_id, old=old, new=new)
        return [FileChange.model_validate(item) for item in result["changes"]]

    def read(self, tree: str, path: str) -> bytes:
        """A file's content as it was in checkpoint ``tree``."""
        return base64.b64decode(self._call("read", tree=tree, path=path)["data"])

    def keep(self, refs: dict[str, str], conversation_id: str | None = None) -> None:
        """Name trees as checkpoints of a conversation (a fork's, say): no content moves."""
        self._call("copy_refs", conversation=conversation_id or self.conversation_id, refs=refs)

    def forget(self, refs: list[str] | None = None) -> int:
        """Drop some checkpoints of this conversation (all with None); ``gc`` frees space."""
        return int(self._call("drop_refs", conversation=self.conversation_id, refs=refs)["dropped"])

    def gc(self) -> int:
        """Remove content no checkpoint of any conversation needs; returns the bytes freed."""
        return int(self._call("gc")["freed"])

    def usage(self) -> StoreUsage:
        return StoreUsage.model_validate(self._call("usage"))

    def prune(self, keep_last: int) -> int:
        """Every conversation keeps its first and newest ``keep_last`` checkpoints; returns
        the bytes freed."""
        return int(self._call("prune", keep_last=keep_last)["freed"])


def store_only(client: docker.DockerClient | None = None) -> CheckpointStore:
    """A handle on the store itself, for the space it uses and pruning (close it after)."""
    return CheckpointStore("maintenance", None, client=client)


def _server_tar() -> bytes:
    data = SERVER_SOURCE.read_bytes()
    buffer = io.BytesIO()
    folder = os.path.basename(SERVER_DIR)
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        directory = tarfile.TarInfo(folder)
        directory.type = tarfile.DIRTYPE
        directory.mode = 0o755
        archive.addfile(directory)
        info = tarfile.TarInfo(f"{folder}/server.py")
        info.size = len(data)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
