"""File-descriptor walking for the checkpoint helper (stdlib only; uploaded beside server.py).

The agent's processes may still run while the helper reads or writes /workspace (a freeze
can fail, a pause mode may be signals only), and an agent may swap any directory for a
symlink to somewhere in the helper's own file system between two system calls. So nothing
here resolves a path twice: every step opens one name relative to a directory already held
open (``dir_fd``), with O_NOFOLLOW, and checks what it opened with fstat. A path is never
longer than one name, so PATH_MAX does not limit depth; walks keep their own stacks, so the
recursion limit does not either.

Sparse files: a file's data extents are found with SEEK_DATA/SEEK_HOLE, so the holes of a
terabyte file cost nothing to read or to keep. Its blob is then a header line (JSON: the
apparent size and the extents) followed by the extents' bytes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterator
from typing import Any, Protocol

CHUNK = 1 << 20
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a name swapped for a fifo must not hang the open; fstat then says what it is.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
SPARSE_MAGIC = b"berth-sparse-1\n"
# The errors a name swapped under us gives: a symlink (ELOOP), a non-directory (ENOTDIR).
SWAPPED = (errno.ELOOP, errno.ENOTDIR, errno.ENOENT, errno.EISDIR, errno.ENXIO)

Extent = tuple[int, int]


# Tree entry fields (a list, to keep trees small and fast to compare).
NAME, TYPE, MODE, UID, GID, SIZE, MTIME, REF, SPARSE = range(9)
Entry = list[Any]


class Objects(Protocol):
    """What the restore and the comparison read of a store (server.Store is one): typed
    here so that they need not import the server, which imports them."""

    def stream(self, digest: str) -> Iterator[bytes]: ...

    def tree(self, digest: str) -> list[Entry]: ...

    def content(self, fd: int, st: os.stat_result, store: bool) -> tuple[str, bool]: ...


class Frame:
    """One directory of a walk: held open by ``fd``, its names, what was found so far."""

    def __init__(self, fd: int, rel: str, children: list[Any], name: str, meta: list[Any]) -> None:
        self.fd = fd
        self.rel = rel
        self.children = children
        self.index = 0
        self.name = name
        self.meta = meta  # for a scan: mode, uid, gid, mtime; for a restore: its entry
        self.entries: list[list[Any]] = []


def open_dir(dir_fd: int | None, name: str) -> int:
    """A directory opened by one name (never through a symlink)."""
    return os.open(name, DIR_FLAGS, dir_fd=dir_fd)


def lstat_at(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def names(dir_fd: int) -> list[str]:
    """The entries of an open directory, sorted (scandir on a fd leaves the fd usable)."""
    with os.scandir(dir_fd) as found:
        return sorted(item.name for item in found)


def open_file(dir_fd: int, name: str) -> tuple[int, os.stat_result] | None:
    """A regular file opened by one name, or None when the name is no regular file now."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in SWAPPED:
            return None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st


def remove_at(dir_fd: int, name: str) -> None:
    """Remove a name and, for a directory, all below it: by fd, without recursion."""
    try:
        os.unlink(name, dir_fd=dir_fd)
        return
    except FileNotFoundError:
        return
    except IsADirectoryError:
        pass
    stack = [(dir_fd, name, open_dir(dir_fd, name))]
    while stack:
        parent, here, fd = stack[-1]
        below = None
        for child in names(fd):
            try:
                os.unlink(child, dir_fd=fd)
            except FileNotFoundError:
                continue
            except IsADirectoryError:
                below = child
                break
        if below is not None:
            stack.append((fd, below, open_dir(fd, below)))
            continue
        os.close(fd)
        stack.pop()
        os.rmdir(here, dir_fd=parent)


def close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def extents(fd: int, size: int) -> list[Extent]:
    """Where a file's data lies (offset, length); the rest reads as zeros."""
    found: list[Extent] = []
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole from here on
                break
            if exc.errno == errno.EINVAL:  # no SEEK_DATA here: all of it is data
                return [(0, size)] if size else []
            raise
        if start >= size:
            break
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        found.append((start, end - start))
        pos = end
    return found


def is_sparse(spans: list[Extent], size: int) -> bool:
    return sum(length for _, length in spans) < size


def sparse_header(size: int, spans: list[Extent]) -> bytes:
    return SPARSE_MAGIC + json.dumps({"size": size, "extents": spans}).encode() + b"\n"


def read_extents(fd: int, spans: list[Extent]) -> Iterator[bytes]:
    """The bytes of each extent in turn, a chunk at a time (a file shrunk under us reads
    short; the hash then names what was read)."""
    for offset, length in spans:
        done = 0
        while done < length:
            data = os.pread(fd, min(CHUNK, length - done), offset + done)
            if not data:
                break
            done += len(data)
            yield data


class BlobReader:
    """Reads back a stored blob from a stream of its (decompressed) chunks, in bounded
    pieces: a dense file's content, or a sparse file's header then extents."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def layout(self, sparse: bool) -> tuple[int | None, list[Extent]]:
        """(apparent size, extents) of a sparse blob; (None, []) for a dense one."""
        if not sparse:
            return None, []
        if self.read(len(SPARSE_MAGIC)) != SPARSE_MAGIC:
            raise ValueError("a sparse blob without its header")
        line = b""
        while not line.endswith(b"\n"):
            piece = self.read(1 << 16)
            if not piece:
                raise ValueError("a sparse blob cut short")
            cut = piece.find(b"\n")
            if cut >= 0:
                line += piece[: cut + 1]
                self._buffer = piece[cut + 1 :] + self._buffer
            else:
                line += piece
        header = json.loads(line)
        return int(header["size"]), [(int(o), int(n)) for o, n in header["extents"]]


def write_blob(fd: int, reader: BlobReader, sparse: bool) -> int:
    """Write a blob into an empty file: a sparse one as ftruncate plus writes at offsets,
    so its holes stay holes. Returns the apparent size."""
    size, spans = reader.layout(sparse)
    if size is None:
        total = 0
        while data := reader.read(CHUNK):
            os.write(fd, data)
            total += len(data)
        return total
    os.ftruncate(fd, size)
    for offset, length in spans:
        done = 0
        while done < length:
            data = reader.read(min(CHUNK, length - done))
            if not data:
                raise ValueError("a sparse blob cut short")
            os.pwrite(fd, data, offset + done)
            done += len(data)
    return size
