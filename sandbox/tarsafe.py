"""Tar streams in and out of containers, refusing any entry that would land outside its target.

The engine's archive API speaks tar both ways. A tar from a container is untrusted input (the
agent controls the container), and a tar handed to ``put_archive`` may come from anywhere:
absolute names, ``..`` components and links pointing out are refused with PathOutsideError.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from sandbox.errors import PathOutsideError

Progress = Callable[[int, int], None]


def _inside(relative: str) -> bool:
    """True when a normalised relative POSIX path stays within its root."""
    return relative != ".." and not relative.startswith("../")


def check_member(member: tarfile.TarInfo) -> None:
    """Raise PathOutsideError when ``member`` would land, or point, outside the target."""
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise PathOutsideError(f"Refused tar entry {name!r}: absolute path.")
    if ".." in name.replace("\\", "/").split("/"):
        raise PathOutsideError(f"Refused tar entry {name!r}: '..' in its path.")
    if member.issym():
        target = member.linkname
        if target.startswith("/"):
            raise PathOutsideError(
                f"Refused tar entry {name!r}: symlink to the absolute path {target!r}."
            )
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if not _inside(resolved):
            raise PathOutsideError(
                f"Refused tar entry {name!r}: symlink {target!r} points outside the target."
            )
    elif member.islnk():
        target = posixpath.normpath(member.linkname)
        if member.linkname.startswith("/") or not _inside(target):
            raise PathOutsideError(
                f"Refused tar entry {name!r}: hard link to {member.linkname!r} outside the target."
            )


def check_tar(data: bytes | IO[bytes]) -> None:
    """Check every entry of a whole tar (bytes or a seekable file) before it is sent."""
    fileobj = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    start = fileobj.tell()
    with tarfile.open(fileobj=fileobj, mode="r:*") as tar:
        for member in tar:
            check_member(member)
    fileobj.seek(start)


class ChunkReader(io.RawIOBase):
    """A file-like view of an iterator of byte chunks (the SDK's archive stream)."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        on_close: Callable[[], None] | None = None,
        progress: Progress | None = None,
        total: int = 0,
    ) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._on_close = on_close
        self._pending = b""
        self.consumed = 0
        self._progress = progress
        self._total = total

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.consumed += size
        if self._progress is not None:
            self._progress(self.consumed, self._total)
        return size

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None
        super().close()


def open_stream(reader: IO[bytes] | io.RawIOBase) -> tarfile.TarFile:
    """A forward-only tar reader: headers are parsed as they arrive; nothing is buffered."""
    return tarfile.open(fileobj=reader, mode="r|", bufsize=64 * 1024)


def extract(tar: tarfile.TarFile, dest: Path) -> list[Path]:
    """Extract a streaming tar into ``dest``, checking every entry first.

    Device files and fifos are skipped: they mean nothing on the host.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(dest)
    written: list[Path] = []
    for member in tar:
        check_member(member)
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            continue
        try:
            safe = tarfile.data_filter(member, root)
        except tarfile.FilterError as exc:  # e.g. a link chain resolving outside
            raise PathOutsideError(f"Refused tar entry {member.name!r}: {exc}") from exc
        tar.extract(safe, root, set_attrs=True, filter="fully_trusted")
        written.append(dest / member.name)
    return written


Owner = tuple[int, int]
_SET_ID = 0o6000


def _owned(owner: Owner | None) -> Callable[[tarfile.TarInfo], tarfile.TarInfo]:
    """A tar filter: entries owned by root, or on a host folder by its owner (uid, gid)
    with the set-id bits cleared, since a setuid file there is one on the host."""

    def apply(info: tarfile.TarInfo) -> tarfile.TarInfo:
        if owner is None:
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
        else:
            info.uid, info.gid = owner
            info.uname = info.gname = ""
            info.mode &= ~_SET_ID
        return info

    return apply


def _dir_entries(tar: tarfile.TarFile, prefix: str, mtime: float, owner: Owner | None) -> None:
    parts = [part for part in prefix.split("/") if part]
    for depth in range(1, len(parts) + 1):
        info = tarfile.TarInfo("/".join(parts[:depth]))
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        info.mtime = int(mtime)
        tar.addfile(_owned(owner)(info))


def host_tar(
    source: Path, fileobj: IO[bytes], prefix: str = "", mtime: float = 0, owner: Owner | None = None
) -> None:
    """Tar a host file or folder (links kept as links) as ``prefix/<name>``, owned by root
    (or ``owner``).

    ``prefix`` names folders that do not exist yet in the container; they are created.
    """
    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _dir_entries(tar, prefix, mtime, owner)
        arcname = posixpath.join(prefix, source.name) if prefix else source.name
        tar.add(str(source), arcname=arcname, recursive=True, filter=_owned(owner))


def single_file_tar(
    name: str, data: bytes, mode: int, mtime: float, prefix: str = "", owner: Owner | None = None
) -> bytes:
    """A tar holding the folders of ``prefix`` then one regular file, owned by root (or
    ``owner``)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _dir_entries(tar, prefix, mtime, owner)
        info = tarfile.TarInfo(posixpath.join(prefix, name) if prefix else name)
        info.size = len(data)
        info.mode = mode & 0o7777
        info.mtime = int(mtime)
        tar.addfile(_owned(owner)(info), io.BytesIO(data))
    return out.getvalue()


def single_dirs_tar(prefix: str, owner: Owner | None = None) -> bytes:
    """A tar holding only the folders of ``prefix``."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _dir_entries(tar, prefix, time.time(), owner)
    return out.getvalue()


def owned_copy(data: bytes | IO[bytes], owner: Owner, spool: IO[bytes]) -> None:
    """Copy a whole tar into ``spool`` with every entry owned by ``owner`` and no set-id bit
    (a tar handed to put_archive for a host folder)."""
    fileobj = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    apply = _owned(owner)
    with (
        tarfile.open(fileobj=fileobj, mode="r:*") as source,
        tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as out,
    ):
        made: set[str] = set()
        for member in source:
            # Folders a tar only implies would be made by the engine, as root.
            parts = posixpath.normpath(member.name).split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                if parent not in made and parent != ".":
                    made.add(parent)
                    folder = tarfile.TarInfo(parent)
                    folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, member.mtime
                    out.addfile(apply(folder))
            made.add("/".join(parts))
            body = source.extractfile(member) if member.isfile() else None
            out.addfile(apply(member), body)
