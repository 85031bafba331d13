"""Restoring a checkpoint tree into /workspace, by file descriptor (runs in the helper,
stdlib only): see fdtree for why no path is ever resolved twice. Iterative, so depth is
not limited; each file is written to a temporary name and renamed over the old one, so a
restore killed half-way leaves whole files and finishes when run again."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat

from sandbox.checkpoints import fdtree
from sandbox.checkpoints.fdtree import (
    GID,
    MODE,
    MTIME,
    NAME,
    REF,
    SIZE,
    SPARSE,
    TYPE,
    UID,
    BlobReader,
    Entry,
    Frame,
    Objects,
)

SETID = stat.S_ISUID | stat.S_ISGID


def _safe_name(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"bad name {name!r}")
    return name


def _enter(store: Objects, fd: int, rel: str, entry: Entry, counts: list[int]) -> Frame:
    """A directory to restore: what is not wanted in it goes first."""
    want = store.tree(str(entry[REF]))
    wanted = {str(e[NAME]) for e in want}
    for name in fdtree.names(fd):
        if name not in wanted:
            fdtree.remove_at(fd, name)
            counts[1] += 1
    return Frame(fd, rel, want, str(entry[NAME]), entry)


def restore_tree(store: Objects, root_fd: int, root: Entry, counts: list[int], strip: bool) -> None:
    stack = [_enter(store, root_fd, "", root, counts)]
    try:
        while stack:
            frame = stack[-1]
            if frame.index >= len(frame.children):
                stack.pop()
                _set_meta(frame.fd, frame.meta, os.fstat(frame.fd), strip)
                if stack:
                    os.close(frame.fd)
                continue
            entry = frame.children[frame.index]
            frame.index += 1
            name, kind = _safe_name(str(entry[NAME])), str(entry[TYPE])
            st = fdtree.lstat_at(frame.fd, name)
            if kind == "d":
                if st is not None and not stat.S_ISDIR(st.st_mode):
                    fdtree.remove_at(frame.fd, name)
                    st = None
                if st is None:
                    os.mkdir(name, 0o700, dir_fd=frame.fd)
                fd = fdtree.open_dir(frame.fd, name)
                try:
                    stack.append(_enter(store, fd, f"{frame.rel}/{name}", entry, counts))
                except BaseException:
                    os.close(fd)
                    raise
            elif kind == "f":
                counts[0] += _restore_file(store, frame.fd, name, entry, st, strip)
            elif kind == "l":
                counts[0] += _restore_link(frame.fd, name, entry, st)
            # "x": a file kept out of the checkpoint (too big): whatever is there stays.
    finally:
        fdtree.close_all([frame.fd for frame in stack[1:]])


def _restore_file(
    store: Objects, dir_fd: int, name: str, entry: Entry, st: os.stat_result | None, strip: bool
) -> int:
    sparse = len(entry) > SPARSE and bool(entry[SPARSE])
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size == entry[SIZE]:
        opened = fdtree.open_file(dir_fd, name)
        if opened is not None:
            fd, fst = opened
            try:
                if store.content(fd, fst, store=False) == (entry[REF], sparse):
                    _set_meta(fd, entry, fst, strip)
                    return 0
            finally:
                os.close(fd)
    tmp = _temp_name(name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600, dir_fd=dir_fd)
    try:
        fdtree.write_blob(fd, BlobReader(store.stream(str(entry[REF]))), sparse)
        _set_meta(fd, entry, None, strip)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.close(fd)
    _replace(dir_fd, tmp, name, st)
    return 1


def _restore_link(dir_fd: int, name: str, entry: Entry, st: os.stat_result | None) -> int:
    written = 0
    same = False
    if st is not None and stat.S_ISLNK(st.st_mode):
        with contextlib.suppress(OSError):
            same = os.readlink(name, dir_fd=dir_fd) == entry[REF]
    if not same:
        tmp = _temp_name(name)
        os.symlink(str(entry[REF]), tmp, dir_fd=dir_fd)
        _replace(dir_fd, tmp, name, st)
        written, st = 1, None
    uid, gid, mtime = entry[UID], entry[GID], entry[MTIME]
    if st is None or (st.st_uid, st.st_gid) != (uid, gid):
        with contextlib.suppress(OSError):
            os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
    if st is None or st.st_mtime_ns != mtime:
        with contextlib.suppress(OSError, NotImplementedError):
            os.utime(name, ns=(mtime, mtime), dir_fd=dir_fd, follow_symlinks=False)
    return written


def _set_meta(fd: int, entry: Entry, st: os.stat_result | None, strip: bool) -> None:
    """Owner, mode and mtime as recorded, through an open fd; only what differs is touched,
    since each change moves the ctime, and a moved ctime costs the next checkpoint a read."""
    mode, uid, gid, mtime = entry[MODE], entry[UID], entry[GID], entry[MTIME]
    if strip:
        mode &= ~SETID
    if st is None or (st.st_uid, st.st_gid) != (uid, gid):
        with contextlib.suppress(OSError):  # an owner the file system cannot hold
            os.fchown(fd, uid, gid)
        st = None  # chown clears set-id bits: the mode goes on again
    if st is None or stat.S_IMODE(st.st_mode) != mode:
        os.fchmod(fd, mode)
    if st is None or st.st_mtime_ns != mtime:
        with contextlib.suppress(OSError):
            os.utime(fd, ns=(mtime, mtime))


def _temp_name(name: str) -> str:
    return f".berth-restore-{secrets.token_hex(4)}-{name}"[:255]


def _replace(dir_fd: int, tmp: str, name: str, st: os.stat_result | None) -> None:
    if st is not None and stat.S_ISDIR(st.st_mode):
        fdtree.remove_at(dir_fd, name)  # rename cannot put a file over a directory
    os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
