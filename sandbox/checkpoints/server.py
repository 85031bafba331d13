"""The checkpoint store's server: runs INSIDE the helper container, stdlib only.

Berth uploads this package's stdlib modules into a helper container that mounts the
conversation's ``/workspace`` (the same named volume or host folder as the agent's
container) and that conversation's own store volume at ``/store``, then talks to it over
the exec attach socket: one JSON request per line on stdin, one JSON answer per line on
stdout. Nothing here runs in the agent's container, so a frozen agent, an image with only
bash, or a remote engine change nothing. No other conversation's store is mounted: what
one agent can make this helper do reaches its own checkpoints at most.

/workspace is hostile ground: every walk is by file descriptor (``fdtree``), never by a
path the agent could change between two calls, and never recursive.

The store is content-addressed, as git's is, but its own: git refuses to track any path
named ``.git``, and a workspace is very often a git repository whose ``.git`` a rewind must
take back too. Objects live in ``objects/ab/cdef...`` (sha256 of the content, zlib): a blob
per file content, a tree per directory (a JSON list of entries). A checkpoint is a tree;
``refs/<conversation>/<checkpoint>`` names it so garbage collection keeps it. A sparse
file's blob is its extents (fdtree), marked by a ninth field of its tree entry; a file over
a size limit is kept out, as an entry of type ``x`` that a restore leaves alone.

Durability under kill -9: an object is written to a temporary file and renamed into place,
a tree only after all it names, a ref only after its tree; so a store always opens and
every ref names a whole tree. A restore replaces each file by a rename; a rewind killed
half-way is finished by running it again (the caller keeps the intent on its own disk).

Speed: a file whose (size, mtime, ctime, inode) is what this server last saw keeps its hash
without being read, as git's index does; a directory whose entries did not change keeps its
tree. A checkpoint of an unchanged workspace then costs a stat per file and writes nothing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import itertools
import json
import os
import secrets
import stat
import time
import zlib
from collections.abc import Iterable, Iterator

from sandbox.checkpoints import compare, fdtree, restoring
from sandbox.checkpoints.fdtree import (
    REF,
    TYPE,
    Entry,
    Frame,
)

WORKSPACE = "/workspace"
STORE = "/store"
# A file changed this close to a scan's start may change again within the same timestamp
# tick; its hash is not cached, so the next scan reads it again (git's "racy" files).
RACY_NS = 200_000_000
CHUNK = fdtree.CHUNK
MAX_FILE_BYTES = 1 << 30  # data bytes of one file (holes are free)
MAX_NEW_BYTES = 4 << 30  # data bytes read from changed files in one checkpoint


class StoreError(Exception):
    pass


def _safe_name(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise StoreError(f"bad name {name!r}")
    return name


def _size(count: int) -> str:
    return f"{count / (1 << 20):,.1f} MiB" if count < 1 << 30 else f"{count / (1 << 30):,.1f} GiB"


class _Scan:
    """The tally of one snapshot: counts, the data budget and the notes on what was left."""

    def __init__(self, max_file_bytes: int, max_new_bytes: int) -> None:
        self.files = 0
        self.bytes = 0
        self.read = 0
        self.max_file = max_file_bytes
        self.max_new = max_new_bytes
        self.notes: list[str] = []


class Store:
    def __init__(self, root: str = STORE, workspace: str = WORKSPACE, create: bool = True) -> None:
        self.root = root
        self.workspace = workspace
        self.objects = os.path.join(root, "objects")
        for sub in ("objects", "refs", "locks", "tmp") if create else ():
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        # rel path -> (stat key, hash, sparse) and rel dir -> (entries, tree hash).
        self.files: dict[str, tuple[tuple[int, int, int, int], str, bool]] = {}
        self.dirs: dict[str, tuple[list[Entry], str]] = {}
        self.generation = ""
        self.scan_start = 0
        self.written = 0

    # -- locks -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self, name: str, exclusive: bool = True) -> Iterator[None]:
        path = os.path.join(self.root, "locks", name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # a store mounted read-only (a fork's parent): lock if we can
            if exc.errno != errno.EROFS:
                raise
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                yield
                return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _working(self, conversation: str) -> Iterator[None]:
        """Writers share the gc lock (gc takes it alone) and own their conversation's."""
        with self._lock("gc", exclusive=False), self._lock(_safe_name(conversation) + ".lock"):
            self._check_generation()
            yield

    def _check_generation(self) -> None:
        # A gc (from any helper) may have removed objects only a cache remembers.
        try:
            with open(os.path.join(self.root, "gc.generation")) as handle:
                generation = handle.read()
        except FileNotFoundError:
            generation = ""
        if generation != self.generation:
            self.files.clear()
            self.dirs.clear()
            self.generation = generation

    # -- objects ---------------------------------------------------------------------------

    def _path(self, digest: str) -> str:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise StoreError(f"bad object id {digest!r}")
        return os.path.join(self.objects, digest[:2], digest[2:])

    def _put_bytes(self, data: bytes) -> str:
        return self._put([data], store=True)

    def _put(self, chunks: Iterable[bytes], store: bool) -> str:
        """Hash ``chunks`` and, with ``store``, keep them as an object: streamed to a temporary
        file while hashed, so a big file is read once and never held in memory."""
        hasher = hashlib.sha256()
        if not store:
            for chunk in chunks:
                hasher.update(chunk)
            return hasher.hexdigest()
        tmp = os.path.join(self.root, "tmp", f"{os.getpid()}-{secrets.token_hex(6)}")
        packer = zlib.compressobj(1)
        try:
            with open(tmp, "wb") as handle:
                for chunk in chunks:
                    hasher.update(chunk)
                    handle.write(packer.compress(chunk))
                handle.write(packer.flush())
                size = handle.tell()
            path = self._path(hasher.hexdigest())
            if os.path.exists(path):
                os.unlink(tmp)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.replace(tmp, path)
                self.written += size
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return hasher.hexdigest()

    def _get(self, digest: str) -> bytes:
        """A small object whole (trees, roots): blobs are streamed with ``stream``."""
        with open(self._path(digest), "rb") as handle:
            return zlib.decompress(handle.read())

    def stream(self, digest: str) -> Iterator[bytes]:
        """An object's content in pieces of at most CHUNK (zlib's max_length: a gigabyte of
        zeros compresses to a megabyte and must not come out at once)."""
        unpacker = zlib.decompressobj()
        with open(self._path(digest), "rb") as handle:
            while chunk := handle.read(CHUNK):
                data = unpacker.decompress(chunk, CHUNK)
                yield data
                while unpacker.unconsumed_tail:
                    yield unpacker.decompress(unpacker.unconsumed_tail, CHUNK)
            yield unpacker.flush()

    def tree(self, digest: str) -> list[Entry]:
        return json.loads(self._get(digest))

    def content(self, fd: int, st: os.stat_result, store: bool) -> tuple[str, bool]:
        """The hash of an open file's content (its extents when sparse), kept with ``store``."""
        spans = fdtree.extents(fd, st.st_size)
        if fdtree.is_sparse(spans, st.st_size):
            header = fdtree.sparse_header(st.st_size, spans)
            chunks = itertools.chain([header], fdtree.read_extents(fd, spans))
            return self._put(chunks, store), True
        return self._put(fdtree.read_extents(fd, [(0, st.st_size)]), store), False

    # -- snapshot --------------------------------------------------------------------------

    def snapshot(
        self,
        conversation: str,
        ref: str | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_new_bytes: int = MAX_NEW_BYTES,
    ) -> dict[str, object]:
        """The workspace as a tree (plus its root's metadata), named by ``ref`` if given.
        Files over the limits are kept out (said in ``notes``); the rest is kept."""
        with self._working(conversation):
            start = time.monotonic()
            self.scan_start = time.time_ns()
            self.written = 0
            scan = _Scan(max_file_bytes, max_new_bytes)
            root_fd = fdtree.open_dir(None, self.workspace)
            try:
                tree = self._scan(root_fd, scan)
                st = os.fstat(root_fd)
            finally:
                os.close(root_fd)
            # The root directory's own mode and owner travel in a small wrapper object.
            meta = [stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns]
            root = self._put_bytes(json.dumps({"tree": tree, "root": meta}).encode())
            if ref is not None:
                self._write_ref(conversation, ref, root)
            return {
                "tree": root,
                "files": scan.files,
                "bytes": scan.bytes,
                "written": self.written,
                "seconds": time.monotonic() - start,
                "skipped": len(scan.notes),
                "notes": scan.notes[:50],
            }

    def _scan(self, root_fd: int, scan: _Scan) -> str:
        stack = [Frame(root_fd, "", fdtree.names(root_fd), "", [])]
        try:
            while True:
                frame = stack[-1]
                if frame.index < len(frame.children):
                    name = frame.children[frame.index]
                    frame.index += 1
                    found = self._scan_entry(frame, name, scan)
                    if isinstance(found, Frame):
                        stack.append(found)
                    elif found is not None:
                        frame.entries.append(found)
                    continue
                stack.pop()
                digest = self._dir_tree(frame)
                if not stack:
                    return digest
                os.close(frame.fd)
                mode, uid, gid, mtime = frame.meta
                stack[-1].entries.append([frame.name, "d", mode, uid, gid, 0, mtime, digest])
        finally:
            fdtree.close_all([frame.fd for frame in stack[1:]])

    def _dir_tree(self, frame: Frame) -> str:
        cached = self.dirs.get(frame.rel)
        if cached is not None and cached[0] == frame.entries:
            return cached[1]
        digest = self._put_bytes(json.dumps(frame.entries, separators=(",", ":")).encode())
        self.dirs[frame.rel] = (frame.entries, digest)
        return digest

    def _scan_entry(self, frame: Frame, name: str, scan: _Scan) -> Frame | Entry | None:
        """One name of a directory: a frame to walk into, an entry, or None (gone, or not
        content: sockets, fifos, devices). A name swapped while we look is looked at again."""
        rel = f"{frame.rel}/{name}"
        for _attempt in range(5):
            st = fdtree.lstat_at(frame.fd, name)
            if st is None:
                return None
            meta = [stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
            try:
                if stat.S_ISDIR(st.st_mode):
                    fd = fdtree.open_dir(frame.fd, name)
                    try:
                        dst = os.fstat(fd)
                        children = fdtree.names(fd)
                    except BaseException:
                        os.close(fd)
                        raise
                    dmeta = [stat.S_IMODE(dst.st_mode), dst.st_uid, dst.st_gid, dst.st_mtime_ns]
                    return Frame(fd, rel, children, name, dmeta)
                if stat.S_ISREG(st.st_mode):
                    opened = fdtree.open_file(frame.fd, name)
                    if opened is None:
                        continue
                    fd, fst = opened
                    try:
                        return self._file_entry(fd, fst, rel, name, scan)
                    finally:
                        os.close(fd)
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(name, dir_fd=frame.fd)
                    scan.files += 1
                    return [name, "l", *meta, 0, st.st_mtime_ns, target]
                return None
            except OSError as exc:
                if exc.errno not in (*fdtree.SWAPPED, errno.EINVAL):
                    raise
        scan.notes.append(f"{WORKSPACE}{rel}: kept changing while it was read; not kept")
        return None

    def _file_entry(self, fd: int, st: os.stat_result, rel: str, name: str, scan: _Scan) -> Entry:
        meta = [stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns]
        key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        cached = self.files.get(rel)
        if cached is not None and cached[0] == key:
            digest, sparse = cached[1], cached[2]
        else:
            data = sum(length for _, length in fdtree.extents(fd, st.st_size))
            why = ""
            if data > scan.max_file:
                why = f"{_size(data)} of data, over the per-file limit of {_size(scan.max_file)}"
            elif scan.read + data > scan.max_new:
                why = f"over this checkpoint's limit of {_size(scan.max_new)} of new data"
            if why:
                scan.notes.append(f"{WORKSPACE}{rel}: {why}; not kept (a rewind leaves it be)")
                return [name, "x", *meta, ""]
            scan.read += data
            digest, sparse = self.content(fd, st, store=True)
            if max(st.st_ctime_ns, st.st_mtime_ns) < self.scan_start - RACY_NS:
                self.files[rel] = (key, digest, sparse)
        scan.files += 1
        scan.bytes += st.st_size
        return [name, "f", *meta, digest, *([1] if sparse else [])]

    def _ref_path(self, conversation: str, ref: str) -> str:
        return os.path.join(self.root, "refs", _safe_name(conversation), _safe_name(ref))

    def _write_ref(self, conversation: str, ref: str, root: str) -> None:
        path = self._ref_path(conversation, ref)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp-{secrets.token_hex(4)}"
        with open(tmp, "w") as handle:
            handle.write(root)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def top(self, digest: str) -> tuple[str, Entry]:
        wrapper = json.loads(self._get(digest))
        return wrapper["tree"], wrapper["root"]

    # -- restore ---------------------------------------------------------------------------

    def restore(self, conversation: str, tree: str, strip_setid: bool = False) -> dict[str, object]:
        """Make the workspace exactly ``tree``: extra entries go, missing ones come back.
        ``strip_setid``: a host folder, where no setuid/setgid file may land."""
        if not os.path.exists(self._path(tree)):
            raise StoreError("that checkpoint was pruned: its content is no longer kept")
        with self._working(conversation):
            start = time.monotonic()
            counts = [0, 0]
            top, (mode, uid, gid, mtime) = self.top(tree)
            root_fd = fdtree.open_dir(None, self.workspace)
            try:
                root_entry = ["", "d", mode, uid, gid, 0, mtime, top]
                restoring.restore_tree(self, root_fd, root_entry, counts, strip_setid)
            finally:
                os.close(root_fd)
            return {"written": counts[0], "removed": counts[1], "seconds": time.monotonic() - start}

    # -- changes ---------------------------------------------------------------------------

    def changes(
        self,
        conversation: str,
        old: str,
        new: str | None,
        diff_limit: int = compare.DIFF_LIMIT,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_new_bytes: int = MAX_NEW_BYTES,
    ) -> dict[str, object]:
        """Files and links added, modified or deleted from ``old`` to ``new`` (None: now)."""
        if new is None:
            new = str(self.snapshot(conversation, None, max_file_bytes, max_new_bytes)["tree"])
        found = compare.changes(self, self.top(old)[0], self.top(new)[0], diff_limit)
        return {"changes": found, "tree": new}

    def read(self, tree: str, path: str, limit: int = compare.READ_LIMIT) -> dict[str, object]:
        """The content of ``path`` (absolute, under /workspace) in checkpoint ``tree``."""
        return compare.read(self, self.top(tree)[0], path, limit)

    # -- refs, space -----------------------------------------------------------------------

    def copy_refs(
        self, conversation: str, refs: dict[str, str] | None, source: str | None = None
    ) -> dict[str, object]:
        """Name trees as checkpoints of ``conversation``; with ``source`` (another store's
        root, mounted read-only) the objects they need are copied in from there first, and
        ``refs`` None means all that conversation's checkpoints there."""
        copied = 0
        with self._lock("gc", exclusive=False):
            if source is not None:
                other = Store(source, self.workspace, create=False)
                if refs is None:
                    refs = other.refs_of(conversation)
                with other._lock("gc", exclusive=False):
                    live: set[str] = set()
                    for root in refs.values():
                        other._mark_root(root, live)
                    for digest in sorted(live):
                        copied += self._copy_object(other, digest)
            for ref, root in (refs or {}).items():
                if not os.path.exists(self._path(root)):
                    raise StoreError(f"checkpoint {ref} names content this store lacks")
                self._write_ref(conversation, ref, root)
        return {"copied": len(refs or {}), "objects": copied}

    def refs_of(self, conversation: str) -> dict[str, str]:
        folder = os.path.join(self.root, "refs", _safe_name(conversation))
        found: dict[str, str] = {}
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if ".tmp-" not in name:
                with open(os.path.join(folder, name)) as handle:
                    found[name] = handle.read().strip()
        return found

    def _copy_object(self, other: Store, digest: str) -> int:
        target = self._path(digest)
        if os.path.exists(target):
            return 0
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = os.path.join(self.root, "tmp", f"{os.getpid()}-{secrets.token_hex(6)}")
        with open(other._path(digest), "rb") as source, open(tmp, "wb") as handle:
            while chunk := source.read(CHUNK):
                handle.write(chunk)
        os.replace(tmp, target)
        return 1

    def drop_refs(self, conversation: str, refs: list[str] | None) -> dict[str, object]:
        """Forget some of a conversation's checkpoints (all with None); gc frees the space."""
        folder = os.path.join(self.root, "refs", _safe_name(conversation))
        names = os.listdir(folder) if os.path.isdir(folder) else []
        dropped = 0
        for name in names:
            if refs is None or name in refs:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, name))
                dropped += 1
        if refs is None:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        return {"dropped": dropped}

    def prune(self, keep_last: int) -> dict[str, object]:
        """In every conversation, forget all checkpoints but the first and the newest
        ``keep_last`` (by when they were written), then gc."""
        refs = os.path.join(self.root, "refs")
        dropped = 0
        for conversation in os.listdir(refs):
            folder = os.path.join(refs, conversation)
            paths = [os.path.join(folder, name) for name in os.listdir(folder)]
            paths = sorted((p for p in paths if ".tmp-" not in p), key=os.path.getmtime)
            for path in paths[1 : max(1, len(paths) - keep_last)]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    dropped += 1
        return {"dropped": dropped, **self.gc()}

    def gc(self) -> dict[str, object]:
        """Remove every object no ref reaches (mark and sweep), with all writers held off."""
        with self._lock("gc", exclusive=True):
            live: set[str] = set()
            refs = os.path.join(self.root, "refs")
            for conversation in os.listdir(refs):
                folder = os.path.join(refs, conversation)
                for name in os.listdir(folder) if os.path.isdir(folder) else []:
                    if ".tmp-" in name:
                        continue
                    with open(os.path.join(folder, name)) as handle:
                        self._mark_root(handle.read().strip(), live)
            freed = removed = 0
            for prefix in os.listdir(self.objects):
                folder = os.path.join(self.objects, prefix)
                for name in os.listdir(folder):
                    if prefix + name in live:
                        continue
                    path = os.path.join(folder, name)
                    with contextlib.suppress(FileNotFoundError):
                        freed += os.lstat(path).st_size
                        os.unlink(path)
                        removed += 1
            tmp = os.path.join(self.root, "tmp")
            for name in os.listdir(tmp):  # left by a server killed mid-write
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(tmp, name))
            with open(os.path.join(self.root, "gc.generation"), "w") as handle:
                handle.write(secrets.token_hex(8))
            return {"removed": removed, "freed": freed}

    def _mark_root(self, root: str, live: set[str]) -> None:
        if root in live or not os.path.exists(self._path(root)):
            return
        live.add(root)
        pending = [self.top(root)[0]]
        while pending:  # a list, not recursion: depth is the agent's to choose
            tree = pending.pop()
            if tree in live:
                continue
            live.add(tree)
            for entry in self.tree(tree):
                if entry[TYPE] == "d":
                    pending.append(str(entry[REF]))
                elif entry[TYPE] == "f":
                    live.add(str(entry[REF]))

    def usage(self) -> dict[str, object]:
        total = count = 0
        for folder, _dirs, names in os.walk(self.objects):
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    total += os.lstat(os.path.join(folder, name)).st_size
                    count += 1
        return {"bytes": total, "objects": count}
