"""CheckpointStore: the host's handle on one workspace's checkpoints, kept by a helper.

The helper is a small container of its own (Berth's image, or $BERTH_CHECKPOINT_IMAGE) that
mounts what the agent's container has at /workspace (the same named volume, or the same
host folder) and this conversation's own store volume at /store (never another's: what an
agent can make its helper do stays within its own checkpoints), and runs ``server.py``
(uploaded through the archive API) behind an exec attach socket. So a checkpoint needs
nothing in the agent's image, works while the agent's container is frozen (the helper is
not), and needs no host path on a remote engine: only JSON lines cross the wire.

The helper holds no state the store does not (the stat cache only saves time), so it is
made on first use, removed on close, and made again after a crash, or after a call that
passed its deadline (the helper is killed then: an agent's file must not hold it forever).

Each conversation's store is a volume named from $BERTH_CHECKPOINT_VOLUME (or
"berth-checkpoints") plus the conversation id, labelled with that prefix so Settings can
measure and prune them all. A fork copies what its checkpoints need into its own store.
The single shared store of older versions is left as it was; a conversation that had
checkpoints there gets them copied into its own store the first time its store is made.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import secrets
import socket
import struct
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from sandbox import labels
from sandbox.checkpoints.models import (
    Deadlines,
    FileChange,
    RestoreResult,
    Snapshot,
    StoreLimits,
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
# On each conversation's store volume: the prefix it was named from (tests use their own).
STORE_LABEL = "berth.checkpoints.store"
log = logging.getLogger(__name__)
SERVER_FILES = (
    "helper_main.py",
    "server.py",
    "fdtree.py",
    "compare.py",
    "restoring.py",
    "stores.py",
)
PACKAGE = Path(__file__).parent
SERVER_DIR = "/opt/berth"
SERVER_ARGV = ["python3", "-u", "-S", f"{SERVER_DIR}/sandbox/checkpoints/helper_main.py"]
PARENT = "/parent"  # where a fork's helper mounts the store it copies from (read-only)
STORES = "/stores"  # where the maintenance helper mounts every store
# The helper only reads and writes files; it needs no more than this.
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID"]


class CheckpointError(SandboxError):
    """A checkpoint, a rewind or a diff could not be made; the message says why."""


def helper_image() -> str:
    """$BERTH_CHECKPOINT_IMAGE, else Berth's own image (it has Python)."""
    return os.environ.get(IMAGE_ENV) or default_tag()


def default_store_volume() -> str:
    """The prefix of every conversation's store volume (and the name of the single shared
    store older versions kept, left as it was)."""
    return os.environ.get(VOLUME_ENV) or STORE_VOLUME


def store_volume_for(conversation_id: str) -> str:
    """The volume holding one conversation's checkpoints (and nobody else's)."""
    return f"{default_store_volume()}-{conversation_id}"


def store_volumes(client: docker.DockerClient) -> list[str]:
    """Every store volume of this prefix, the old shared one included when it exists."""
    prefix = default_store_volume()
    with engine_errors():
        found = client.volumes.list(filters={"label": f"{STORE_LABEL}={prefix}"})
        names = sorted(str(volume.name) for volume in found)
        with contextlib.suppress(docker.errors.NotFound):
            client.volumes.get(prefix)
            names.insert(0, prefix)
    return names


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

    def __init__(self, api: docker.APIClient, container_id: str, argv: list[str]) -> None:
        exec_id = api.exec_create(
            container_id,
            argv,
            stdin=True,
            tty=False,
            environment={"PYTHONPATH": SERVER_DIR},
        )["Id"]
        self._sock = api.exec_start(exec_id, socket=True)
        self._raw: Any = getattr(self._sock, "_sock", self._sock)
        self._buf = bytearray()
        self._out = bytearray()
        self._err = bytearray()

    def call(self, request: dict[str, Any], deadline: float) -> Any:
        """One request and its answer; socket.timeout when ``deadline`` (monotonic) passes."""
        self._raw.settimeout(max(0.01, deadline - time.monotonic()))
        self._raw.sendall(json.dumps(request).encode() + b"\n")
        while (end := self._out.find(b"\n")) < 0:
            self._raw.settimeout(max(0.01, deadline - time.monotonic()))
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
    """The checkpoints of one conversation's /workspace. Thread-safe; calls are serialised.

    ``mount`` None: no workspace (copying between stores). ``source_volume``: another store
    mounted read-only, to copy checkpoints from (a fork's parent, the old shared store).
    """

    def __init__(
        self,
        conversation_id: str,
        mount: WorkspaceMount | None,
        *,
        client: docker.DockerClient | None = None,
        image: str | None = None,
        store_volume: str | None = None,
        source_volume: str | None = None,
        limits: StoreLimits | None = None,
        deadlines: Deadlines | None = None,
    ) -> None:
        self.conversation_id = conversation_id
        self.mount = mount
        self.image = image or helper_image()
        self.store_volume = store_volume or store_volume_for(conversation_id)
        self.source_volume = source_volume
        self.limits = limits or StoreLimits()
        self.deadlines = deadlines or Deadlines()
        self._client = client
        self._container: Container | None = None
        self._session: _Session | None = None
        self._lock = threading.Lock()
        self.owner = conversation_id  # whose store volume it is (labelled so)
        self._argv = SERVER_ARGV
        self._name = helper_name(conversation_id)

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
            self._session = _Session(self.client.api, str(container.id), self._argv)
        return self._session

    def _volumes(self) -> dict[str, dict[str, str]]:
        volumes = {self.store_volume: {"bind": "/store", "mode": "rw"}}
        if self.mount is not None:
            volumes[self.mount.source] = {"bind": labels.WORKDIR, "mode": "rw"}
        if self.source_volume is not None:
            volumes[self.source_volume] = {"bind": PARENT, "mode": "ro"}
        return volumes

    def _ensure_store_volume(self) -> bool:
        """Make this conversation's store volume if it is missing; True when it was made."""
        client = self.client
        try:
            client.volumes.get(self.store_volume)
            return False
        except docker.errors.NotFound:
            pass
        prefix = default_store_volume()
        client.volumes.create(
            name=self.store_volume,
            labels={**labels.labels_for(self.owner), STORE_LABEL: prefix},
        )
        return True

    def _find_or_create(self) -> Container:
        client = self.client
        made = self._ensure_store_volume()
        found = client.containers.list(
            ignore_removed=True, all=True, filters={"label": f"{OF_LABEL}={self.conversation_id}"}
        )
        for container in found:
            if container.status == "running" and self._mounts_ok(container):
                self._container = container
                return container
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
        if made and self.mount is not None:
            self._copy_from_shared_store()
        try:
            ensure_image(client, self.image)
        except SandboxError as exc:
            raise CheckpointError(
                f"The checkpoint helper's image {self.image} is missing: {exc}"
            ) from exc
        try:
            container = client.containers.run(
                self.image,
                ["sleep", "infinity"],
                detach=True,
                init=True,
                name=self._name,
                labels={**labels.ours(), OF_LABEL: self.conversation_id},
                volumes=self._volumes(),
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
                client.containers.get(self._name).remove(force=True)
            return self._find_or_create()
        container.put_archive(os.path.dirname(SERVER_DIR), _server_tar())
        self._container = container
        return container

    def _copy_from_shared_store(self) -> None:
        """Checkpoints this conversation had in the single store of older versions come
        into its own store (a helper with no workspace, the old store read-only)."""
        legacy = default_store_volume()
        try:
            self.client.volumes.get(legacy)
        except docker.errors.NotFound:
            return
        copier = CheckpointStore(
            f"{self.conversation_id}-copy",
            None,
            client=self.client,
            image=self.image,
            store_volume=self.store_volume,
            source_volume=legacy,
        )
        try:
            copier.keep(None, conversation_id=self.conversation_id, copy=True)
        except CheckpointError as exc:  # they stay in the old store; rewinds to them say so
            log.warning("could not copy old checkpoints of %s: %s", self.conversation_id, exc)
        finally:
            copier.close()

    def _mounts_ok(self, container: Container) -> bool:
        mounts = {m.get("Destination"): m.get("Name") for m in container.attrs.get("Mounts", [])}
        wanted = self._volumes()
        if len(mounts) != len(wanted) or any(
            mounts.get(v["bind"]) != name
            for name, v in wanted.items()
            if v["bind"] != labels.WORKDIR
        ):
            return False  # an older helper (on the shared store, say): replaced
        if self.mount is None:
            return labels.WORKDIR not in mounts
        try:
            return workspace_mount(container) == self.mount
        except CheckpointError:
            return False

    def close(self) -> None:
        """Stop the server and remove the helper (the store volume keeps everything). Never
        waits for a call under way: that call fails, saying the helper stopped."""
        self._drop_session()
        container, self._container = self._container, None
        if container is not None:
            self._kill(container)

    def _kill(self, container: Container) -> None:
        with contextlib.suppress(Exception):  # force: a busy or frozen helper is killed
            self.client.api.remove_container(str(container.id), force=True)

    def destroy(self) -> None:
        """The conversation is deleted: its helper and its whole store go."""
        self.close()
        with contextlib.suppress(docker.errors.NotFound), engine_errors():
            self.client.volumes.get(self.store_volume).remove(force=True)

    def _drop_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    # -- calls -----------------------------------------------------------------------------

    def _call(self, op: str, **args: Any) -> Any:
        seconds = self.deadlines.of(op)
        with self._lock:
            session = self._ensure_session()
            try:
                with engine_errors():
                    return session.call({"op": op, **args}, time.monotonic() + seconds)
            except TimeoutError as exc:
                self._drop_session()
                container, self._container = self._container, None
                if container is not None:
                    self._kill(container)
                raise CheckpointError(
                    f"The checkpoint helper did not finish {op} within {seconds:g} s, so it "
                    "was stopped; the next call starts a new one."
                ) from exc
            except CheckpointError as exc:
                if "refused" not in str(exc):
                    self._drop_session()  # the server died: the next call starts another
                raise
            except (OSError, ValueError) as exc:
                self._drop_session()
                raise CheckpointError(f"The checkpoint helper failed: {exc}") from exc

    def snapshot(
        self,
        ref: str | None = None,
        *,
        max_file_bytes: int | None = None,
        max_new_bytes: int | None = None,
    ) -> Snapshot:
        """Scan /workspace into the store; with ``ref`` the result is kept as a checkpoint.
        Files over the limits (``limits`` unless given) are kept out, said in its notes."""
        return Snapshot.model_validate(
            self._call(
                "snapshot",
                conversation=self.conversation_id,
                ref=ref,
                **self._scan_limits(max_file_bytes, max_new_bytes),
            )
        )

    def _scan_limits(self, max_file: int | None, max_new: int | None) -> dict[str, int]:
        return {
            "max_file_bytes": self.limits.max_file_bytes if max_file is None else max_file,
            "max_new_bytes": self.limits.max_new_bytes if max_new is None else max_new,
        }

    def restore(self, tree: str) -> RestoreResult:
        """Make /workspace exactly what ``tree`` holds. Idempotent: run it again after a crash.
        On a host folder no setuid/setgid bit is put back."""
        strip = self.mount is not None and self.mount.kind == "bind"
        return RestoreResult.model_validate(
            self._call("restore", conversation=self.conversation_id, tree=tree, strip_setid=strip)
        )

    def changes(self, old: str, new: str | None = None) -> list[FileChange]:
        """What changed from ``old`` to ``new`` (None: /workspace as it is now)."""
        result = self._call(
            "changes",
            conversation=self.conversation_id,
            old=old,
            new=new,
            diff_limit=self.limits.diff_bytes,
            **self._scan_limits(None, None),
        )
        return [FileChange.model_validate(item) for item in result["changes"]]

    def read(self, tree: str, path: str) -> bytes:
        """A file's content as it was in checkpoint ``tree``."""
        return base64.b64decode(self._call("read", tree=tree, path=path)["data"])

    def keep(
        self, refs: dict[str, str] | None, conversation_id: str | None = None, copy: bool = False
    ) -> int:
        """Name trees as checkpoints of a conversation; with ``copy`` the content they need
        comes from ``source_volume`` (None: all that conversation's checkpoints there).
        Returns how many objects were copied."""
        result = self._call(
            "copy_refs",
            conversation=conversation_id or self.conversation_id,
            refs=refs,
            source=PARENT if copy else None,
        )
        return int(result["objects"])

    def forget(self, refs: list[str] | None = None) -> int:
        """Drop some checkpoints of this conversation (all with None); ``gc`` frees space."""
        return int(self._call("drop_refs", conversation=self.conversation_id, refs=refs)["dropped"])

    def gc(self) -> int:
        """Remove content no checkpoint in this store needs; returns the bytes freed."""
        return int(self._call("gc")["freed"])

    def usage(self) -> StoreUsage:
        return StoreUsage.model_validate(self._call("usage"))

    def prune(self, keep_last: int) -> int:
        """Every conversation keeps its first and newest ``keep_last`` checkpoints; returns
        the bytes freed."""
        return int(self._call("prune", keep_last=keep_last)["freed"])


def copy_checkpoints(
    client: docker.DockerClient, parent_id: str, child_id: str, refs: dict[str, str]
) -> int:
    """A fork's checkpoints, with all they need, copied from its parent's store into its
    own (so pruning either never touches the other). No workspace is mounted meanwhile."""
    copier = CheckpointStore(
        f"{child_id}-copy",
        None,
        client=client,
        store_volume=store_volume_for(child_id),
        source_volume=store_volume_for(parent_id),
    )
    copier.owner = child_id
    try:
        return copier.keep(refs, conversation_id=child_id, copy=True)
    finally:
        copier.close()


class AllStores(CheckpointStore):
    """Every conversation's store at once (Settings: the space used, pruning), each mounted
    under /stores by a helper of its own with no workspace."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        # Two windows (or test runs) on one engine each measure with a helper of their own:
        # one found by a shared name or label would be taken, or removed, under the other.
        super().__init__(f"maintenance-{secrets.token_hex(4)}", None, client=client)
        self._argv = [*SERVER_ARGV, "--stores", STORES]
        self.found = store_volumes(self.client)

    def _volumes(self) -> dict[str, dict[str, str]]:
        return {name: {"bind": f"{STORES}/{name}", "mode": "rw"} for name in self.found}

    def _ensure_store_volume(self) -> bool:
        return False

    def usage(self) -> StoreUsage:
        return super().usage() if self.found else StoreUsage(bytes=0, objects=0)

    def prune(self, keep_last: int) -> int:
        return super().prune(keep_last) if self.found else 0

    def gc(self) -> int:
        return super().gc() if self.found else 0


def store_only(client: docker.DockerClient | None = None) -> AllStores:
    """A handle on every conversation's store, for the space they use and pruning (close
    it after)."""
    return AllStores(client)


def _server_tar() -> bytes:
    """The helper's sources (SERVER_FILES; packaging/berth.spec ships them as files) with
    empty package files around them: the helper runs them with only the standard library."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        top = os.path.basename(SERVER_DIR)
        for folder in (top, f"{top}/sandbox", f"{top}/sandbox/checkpoints"):
            directory = tarfile.TarInfo(folder)
            directory.type = tarfile.DIRTYPE
            directory.mode = 0o755
            archive.addfile(directory)
            if folder != top:
                init = tarfile.TarInfo(f"{folder}/__init__.py")
                archive.addfile(init, io.BytesIO(b""))
        for name in SERVER_FILES:
            data = (PACKAGE / name).read_bytes()
            info = tarfile.TarInfo(f"{top}/sandbox/checkpoints/{name}")
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
