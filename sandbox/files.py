"""A container's files through the archive API only: it works on a frozen container and on a
remote engine, and never depends on a shell inside the container.
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors

from sandbox import landing, tarsafe
from sandbox.errors import FileTooLargeError, NoSuchPathError, PathOutsideError, SandboxError
from sandbox.models import FileEntry, FileKind

Progress = Callable[[int, int], None]

# Go's os.FileMode type bits, as the engine reports them in a path stat.
_GO_DIR = 1 << 31
_GO_SYMLINK = 1 << 27
_GO_TYPE = _GO_DIR | _GO_SYMLINK | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)
_GO_SETUID, _GO_SETGID, _GO_STICKY = 1 << 23, 1 << 22, 1 << 20

# A listing read from a tar stream stops being worth it past this many bytes (the engine
# tars the whole subtree); when the container runs, `find` answers instead.
LIST_STREAM_LIMIT = 2 * 1024 * 1024
_MAX_LINKS = 16
# What one read_bytes takes at most unless its caller says otherwise: enough for any source
# file, and far from what would take the host's memory.
READ_LIMIT = 256 * 1024 * 1024
PATH_MAX, NAME_MAX = 4096, 255


def _unix_mode(go_mode: int) -> int:
    mode = go_mode & 0o777
    if go_mode & _GO_SETUID:
        mode |= 0o4000
    if go_mode & _GO_SETGID:
        mode |= 0o2000
    if go_mode & _GO_STICKY:
        mode |= 0o1000
    return mode


def _go_kind(go_mode: int) -> FileKind:
    if go_mode & _GO_DIR:
        return "dir"
    if go_mode & _GO_SYMLINK:
        return "symlink"
    if go_mode & _GO_TYPE:
        return "other"
    return "file"


def _parse_time(text: str) -> datetime:
    # RFC 3339 with nanoseconds: Python keeps microseconds.
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", text)
    if not match:
        return datetime.fromtimestamp(0, UTC)
    base, fraction, zone = match.groups()
    fraction = (fraction or ".0")[:7]
    zone = "+00:00" if zone in (None, "Z") else zone
    return datetime.fromisoformat(f"{base}{fraction}{zone}")


def _norm(path: str) -> str:
    if not path.startswith("/"):
        raise SandboxError(f"Container paths must be absolute: {path[:200]!r}")
    # Linux's limits, said plainly rather than as the engine's raw error.
    if len(path.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise SandboxError(
            f"The path is {len(path):,} characters long; Linux allows at most {PATH_MAX:,} "
            f"bytes for a path: {path[:60]}…"
        )
    longest = max(path.split("/"), key=len)
    if len(longest.encode("utf-8", "surrogateescape")) > NAME_MAX:
        raise SandboxError(
            f"A name in the path is {len(longest):,} characters long; Linux allows at most "
            f"{NAME_MAX} bytes for one file or folder name: {longest[:60]}…"
        )
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/")


class ContainerFiles:
    """File operations on one container, by id, through ``api``."""

    def __init__(
        self,
        api: docker.APIClient,
        container_id: str,
        *,
        frozen: Callable[[], bool],
        exec_gate: threading.RLock | None = None,
        owner: tarsafe.Owner | None = None,
    ) -> None:
        # Any: the archive HEAD and streaming GET need the client's _url/_get/_raise_for_status,
        # which the type stubs leave out.
        self._api: Any = api
        self._id = container_id
        self._frozen = frozen
        self._exec_gate = exec_gate or threading.RLock()  # see PersistentShell
        self._owner = owner  # a host folder's uid:gid: what is written belongs to it

    # -- stat ------------------------------------------------------------------------------

    def _stat_raw(self, path: str) -> dict[str, Any] | None:
        url = self._api._url("/containers/{0}/archive", self._id)
        response = self._api.head(url, params={"path": path})
        if response.status_code == 404:  # no body on HEAD: a gone container looks the same
            return None
        self._api._raise_for_status(response)
        header = response.headers.get("X-Docker-Container-Path-Stat", "")
        return json.loads(base64.b64decode(header)) if header else None

    def stat(self, path: str) -> FileEntry | None:
        """The entry at ``path`` itself (a symlink is not followed), or None."""
        path = _norm(path)
        raw = self._stat_raw(path)
        if raw is None:
            return None
        go_mode = int(raw.get("mode", 0))
        kind = _go_kind(go_mode)
        return FileEntry(
            name=posixpath.basename(path) or "/",
            path=path,
            kind=kind,
            size=int(raw.get("size", 0)),
            mtime=_parse_time(str(raw.get("mtime", ""))),
            mode=_unix_mode(go_mode),
        )

    def exists(self, path: str) -> bool:
        return self._stat_raw(_norm(path)) is not None

    def _resolve(self, path: str) -> tuple[str, dict[str, Any] | None]:
        """Follow symlinks at ``path`` to what they name; (path, stat) or (path, None)."""
        for _ in range(_MAX_LINKS):
            raw = self._stat_raw(path)
            if raw is None or not int(raw.get("mode", 0)) & _GO_SYMLINK:
                return path, raw
            target = str(raw.get("linkTarget") or "")
            if not target:
                return path, raw
            path = _norm(posixpath.join(posixpath.dirname(path), target))
        raise SandboxError(f"Too many levels of symbolic links at {path}")

    def _archive(
        self, path: str, chunk_size: int = 256 * 1024
    ) -> tuple[Iterator[bytes], Callable[[], None]]:
        """The tar stream of ``path`` and a way to drop it early.

        The engine holds the container's lock while it streams an archive: a stream left
        half-read would block every later call on that container, so a reader that stops
        early must close the connection (not just the iterator).
        """
        url = self._api._url("/containers/{0}/archive", self._id)
        response = self._api._get(url, params={"path": path}, stream=True)
        self._api._raise_for_status(response)
        return response.iter_content(chunk_size), response.close

    # -- read ------------------------------------------------------------------------------

    def read_bytes(self, path: str, limit: int = READ_LIMIT) -> bytes:
        """The content of the file at ``path`` (links followed in the container's view).

        FileTooLargeError, before any content is read, when the resolved file is over
        ``limit`` bytes: a link's own size says nothing of what it names, and the agent
        can make a 64 GB sparse file in a blink."""
        return self._read(path, limit, whole=True)[0]

    def read_head(self, path: str, count: int) -> tuple[bytes, int]:
        """The first ``count`` bytes of the file at ``path`` and its full size; the rest is
        never read (the stream is dropped once ``count`` bytes have come)."""
        return self._read(path, count, whole=False)

    def _read(self, path: str, limit: int, *, whole: bool) -> tuple[bytes, int]:
        path = _norm(path)
        real, raw = self._resolve(path)
        if raw is None:
            raise NoSuchPathError(f"No such file in the container: {path}")
        kind = _go_kind(int(raw.get("mode", 0)))
        if kind == "dir":
            raise SandboxError(f"{path} is a directory, not a file.")
        if whole and kind == "file" and int(raw.get("size", 0)) > limit:
            raise FileTooLargeError(path, int(raw.get("size", 0)), limit)
        reader = tarsafe.ChunkReader(*self._archive(real))
        try:
            with tarsafe.open_stream(reader) as tar:
                # Only the first entry counts: reading on would skip its content, all of it.
                member = tar.next()
                if member is not None and member.isfile():
                    # The file may have grown since the stat: the tar's header says so
                    # before its content comes.
                    if whole and member.size > limit:
                        raise FileTooLargeError(path, member.size, limit)
                    handle = tar.extractfile(member)
                    assert handle is not None
                    return handle.read(min(member.size, limit)), member.size
        finally:
            reader.close()  # drops the connection: the engine stops streaming
        raise SandboxError(f"{path} is not a regular file.")

    def list_dir(self, path: str) -> list[FileEntry]:
        path = _norm(path)
        real, raw = self._resolve(path)
        if raw is None:
            raise NoSuchPathError(f"No such folder in the container: {path}")
        if _go_kind(int(raw.get("mode", 0))) != "dir":
            raise SandboxError(f"{path} is not a folder.")
        entries = self._list_by_archive(path, real, give_up=not self._frozen())
        if entries is None:
            entries = self._list_by_find(path, real)
        if entries is None:  # no find in the image: read the whole stream after all
            entries = self._list_by_archive(path, real, give_up=False)
        assert entries is not None
        return sorted(entries, key=lambda entry: entry.name)

    def _list_by_archive(self, shown: str, real: str, give_up: bool) -> list[FileEntry] | None:
        # "<dir>/." names the folder's content as "./name", following a symlinked folder.
        source = real.rstrip("/") + "/."
        reader = tarsafe.ChunkReader(*self._archive(source))
        entries: list[FileEntry] = []
        try:
            with tarsafe.open_stream(reader) as tar:
                for member in tar:
                    # Said before the next header, which lies past this entry's content: a
                    # sparse file of gigabytes would be streamed through first.
                    if give_up and reader.consumed + member.size > LIST_STREAM_LIMIT:
                        return None
                    parts = [p for p in member.name.split("/") if p not in ("", ".")]
                    if len(parts) != 1:
                        continue
                    name = parts[0]
                    kind: FileKind
                    if member.isdir():
                        kind = "dir"
                    elif member.issym():
                        kind = "symlink"
                    elif member.isfile() or member.islnk():
                        kind = "file"
                    else:
                        kind = "other"
                    size = len(member.linkname) if member.issym() else member.size
                    entries.append(
                        FileEntry(
                            name=name,
                            path=posixpath.join(shown, name),
                            kind=kind,
                            size=size,
                            mtime=datetime.fromtimestamp(member.mtime, UTC),
                            mode=member.mode & 0o7777,
                        )
                    )
        finally:
            reader.close()
        return entries

    def _list_by_find(self, shown: str, real: str) -> list[FileEntry] | None:
        argv = [
            "find", real, "-mindepth", "1", "-maxdepth", "1",
            "-printf", r"%y\0%s\0%T@\0%m\0%f\0",
        ]  # fmt: skip
        try:
            with self._exec_gate:
                if self._frozen():
                    return None
                exec_id = self._api.exec_create(self._id, argv, stdout=True, stderr=False)["Id"]
                output = self._api.exec_start(exec_id)
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # frozen meanwhile: only the archive can answer
                return None
            raise
        if self._api.exec_inspect(exec_id).get("ExitCode") == 127:
            return None
        fields = output.split(b"\0")
        kinds: dict[str, FileKind] = {"f": "file", "d": "dir", "l": "symlink"}
        entries = []
        for i in range(0, len(fields) - 4, 5):
            kind, size, mtime, mode, name = fields[i : i + 5]
            text_name = name.decode("utf-8", "surrogateescape")
            entries.append(
                FileEntry(
                    name=text_name,
                    path=posixpath.join(shown, text_name),
                    kind=kinds.get(kind.decode(), "other"),
                    size=int(size),
                    mtime=datetime.fromtimestamp(float(mtime), UTC),
                    mode=int(mode, 8),
                )
            )
        return entries

    # -- write -----------------------------------------------------------------------------

    def _missing_parents(self, folder: str) -> tuple[str, str]:
        """(deepest existing ancestor, the relative chain of folders to create under it)."""
        missing: list[str] = []
        current = folder
        while current != "/":
            raw = self._stat_raw(current)
            if raw is not None:
                if _go_kind(int(raw.get("mode", 0))) not in ("dir", "symlink"):
                    raise SandboxError(f"{current} exists and is not a folder.")
                break
            missing.append(posixpath.basename(current))
            current = posixpath.dirname(current)
        return current, "/".join(reversed(missing))

    def _put(self, folder: str, data: bytes | IO[bytes] | _ProgressFile) -> None:
        self._api.put_archive(self._id, folder, data)

    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        path = _norm(path)
        if path == "/":
            raise SandboxError("Cannot write a file at /")
        # Write through a symlink, as an editor would, rather than replacing the link.
        real, raw = self._resolve(path)
        if raw is not None and _go_kind(int(raw.get("mode", 0))) == "dir":
            raise SandboxError(f"{path} is a directory.")
        folder, name = posixpath.split(real)
        # An existing file proves its folder exists; for a new one, find the missing
        # folders first rather than send the whole body to a 404.
        base, prefix = (folder, "") if raw is not None else self._missing_parents(folder)
        self._put(
            base,
            tarsafe.single_file_tar(
                name, data, mode, time.time(), prefix=prefix, owner=self._owner
            ),
        )

    def put_archive(self, folder: str, data: bytes | IO[bytes]) -> None:
        """Unpack a tar into ``folder`` after checking every entry stays inside it."""
        folder = _norm(folder)
        tarsafe.check_tar(data)
        base, prefix = self._missing_parents(folder)
        if prefix:
            self._put(base, tarsafe.single_dirs_tar(prefix, self._owner))
        if self._owner is None:
            self._put(folder, data)
            return
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
            tarsafe.owned_copy(data, self._owner, spool)
            total = spool.tell()
            spool.seek(0)
            self._put(folder, _ProgressFile(spool, total, None))

    # -- transfer --------------------------------------------------------------------------

    def upload(self, host_path: Path, container_dir: str, progress: Progress | None) -> None:
        host_path = Path(host_path)
        if not host_path.exists() and not host_path.is_symlink():
            raise NoSuchPathError(f"No such file or folder on this computer: {host_path}")
        container_dir = _norm(container_dir)
        base, prefix = self._missing_parents(container_dir)
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
            tarsafe.host_tar(host_path, spool, prefix=prefix, mtime=time.time(), owner=self._owner)
            total = spool.tell()
            spool.seek(0)
            self._put(base, _ProgressFile(spool, total, progress))

    def download(self, container_path: str, host_dir: Path, progress: Progress | None) -> Path:
        """Copy ``container_path`` into ``host_dir``; the one host path written is returned.

        The rule is landing.DOWNLOAD_RULE: a link is followed inside the container and its
        target lands under the link's name; a taken name gets a numbered copy.
        """
        container_path = _norm(container_path)
        real, raw = self._resolve(container_path)
        if raw is None:
            if real != container_path:
                raise NoSuchPathError(
                    f"{container_path} is a link to {real}, which does not exist in the container."
                )
            raise NoSuchPathError(f"No such file or folder in the container: {container_path}")
        total = int(raw.get("size", 0)) if _go_kind(int(raw.get("mode", 0))) == "file" else 0
        host_dir = Path(host_dir)
        with landing.staging(host_dir) as staged:
            chunks, close = self._archive(real, chunk_size=1024 * 1024)
            reader = tarsafe.ChunkReader(chunks, close, progress=progress, total=total)
            try:
                with tarsafe.open_stream(reader) as tar:
                    tarsafe.extract(tar, staged)
            except PathOutsideError as exc:
                raise PathOutsideError(
                    f"Refused the download of {container_path}: {exc} Nothing was written."
                ) from exc
            finally:
                reader.close()
            name = posixpath.basename(container_path) or "root"
            final = landing.land(staged, host_dir, name, container_path)
        if progress is not None:
            progress(reader.consumed, total or reader.consumed)
        return final


class _ProgressFile:
    """A file the HTTP layer reads in chunks, reporting (sent, total) as it goes."""

    def __init__(self, fileobj: IO[bytes], total: int, progress: Progress | None) -> None:
        self._file = fileobj
        self._total = total
        self._sent = 0
        self._progress = progress
        self._last_report = 0.0

    def __len__(self) -> int:
        return self._total

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(max(size, 256 * 1024) if size > 0 else size)
        self._sent += len(data)
        if self._progress is not None:
            now = time.monotonic()
            if data and (self._sent >= self._total or now - self._last_report > 0.05):
                self._last_report = now
                self._progress(self._sent, self._total)
        return data
