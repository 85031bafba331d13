"""The checkpoint store's server: runs INSIDE the helper container, stdlib only.

Berth uploads this file into a helper container that mounts the conversation's
``/workspace`` (the same named volume or host folder as the agent's container) and the store
volume at ``/store``, then talks to it over the exec attach socket: one JSON request per
line on stdin, one JSON answer per line on stdout. Nothing here runs in the agent's
container, so a frozen agent, an image with only bash, or a remote engine change nothing.

The store is content-addressed, as git's is, but its own: git refuses to track any path
named ``.git``, and a workspace is very often a git repository whose ``.git`` a rewind must
take back too. Objects live in ``objects/ab/cdef...`` (sha256 of the content, zlib): a blob
per file content, a tree per directory (a JSON list of entries). A checkpoint is a tree;
``refs/<conversation>/<checkpoint>`` names it so garbage collection keeps it.

Durability under kill -9: an object is written to a temporary file and renamed into place,
a tree only after all it names, a ref only after its tree; so a store always opens and
every ref names a whole tree. A restore replaces each file by a rename; a rewind killed
half-way is finished by running it again (the caller keeps the intent on its own disk).

Speed: a file whose (size, mtime, ctime, inode) is what this server last saw keeps its hash
without being read, as git's index does; a directory whose entries did not change keeps its
tree. A checkpoint of an unchanged workspace then costs a stat per file and writes nothing.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import fcntl
import hashlib
import json
import os
import secrets
import stat
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

WORKSPACE = "/workspace"
STORE = "/store"
# A file changed this close to a scan's start may change again within the same timestamp
# tick; its hash is not cached, so the next scan reads it again (git's "racy" files).
RACY_NS = 200_000_000
TEXT_DIFF_LIMIT = 1_000_000  # bytes: larger files are reported by size
DIFF_OUTPUT_LIMIT = 200_000  # characters of one unified diff
CHUNK = 1 << 20

# Tree entry fields (a list, to keep trees small and fast to compare).
NAME, TYPE, MODE, UID, GID, SIZE, MTIME, REF = range(8)
Entry = list[Any]


class StoreError(Exception):
    pass


def _safe_name(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise StoreError(f"bad name {name!r}")
    return name


class Store:
    def __init__(self, root: str = STORE, workspace: str = WORKSPACE) -> None:
        self.root = root
        self.workspace = workspace
        self.objects = os.path.join(root, "objects")
        for sub in ("objects", "refs", "locks"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        # path -> (stat key, hash) and dir path -> (entries, tree hash), for this workspace.
        self.files: dict[str, tuple[tuple[int, int, int, int], str]] = {}
        self.dirs: dict[str, tuple[list[Entry], str]] = {}
        self.generation = ""
        self.scan_start = 0
        self.written = 0

    # -- locks -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self, name: str, exclusive: bool = True) -> Iterator[None]:
        fd = os.open(os.path.join(self.root, "locks", name), os.O_RDWR | os.O_CREAT, 0o600)
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
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not os.path.exists(path):
            self._write_object(path, [data])
        return digest

    def _write_object(self, path: str, chunks: Iterable[bytes]) -> None:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{secrets.token_hex(4)}")
        packer = zlib.compressobj(1)
        with open(tmp, "wb") as handle:
            for chunk in chunks:
                handle.write(packer.compress(chunk))
            handle.write(packer.flush())
            self.written += handle.tell()
        os.replace(tmp, path)

    def _get(self, digest: str) -> bytes:
        with open(self._path(digest), "rb") as handle:
            return zlib.decompress(handle.read())

    def _tree(self, digest: str) -> list[Entry]:
        return json.loads(self._get(digest))

    def _file_chunks(self, path: str) -> Iterator[bytes]:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def _blob_of(self, path: str, st: os.stat_result, store: bool) -> str:
        """The hash of a file's content, from the cache when its stat says it is unchanged."""
        key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        cached = self.files.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        hasher = hashlib.sha256()
        for chunk in self._file_chunks(path):
            hasher.update(chunk)
        digest = hasher.hexdigest()
        if store:
            target = self._path(digest)
            if not os.path.exists(target):
                self._write_object(target, self._file_chunks(path))
        if max(st.st_ctime_ns, st.st_mtime_ns) < self.scan_start - RACY_NS:
            self.files[path] = (key, digest)
        return digest

    # -- snapshot --------------------------------------------------------------------------

    def _scan(self, path: str, counts: list[int]) -> str:
        entries: list[Entry] = []
        with os.scandir(path) as found:
            items = sorted(found, key=lambda item: item.name)
        for item in items:
            try:
                st = item.stat(follow_symlinks=False)
                mode = st.st_mode
                meta = [stat.S_IMODE(mode), st.st_uid, st.st_gid]
                if stat.S_ISDIR(mode):
                    ref = self._scan(item.path, counts)
                    entries.append([item.name, "d", *meta, 0, st.st_mtime_ns, ref])
                elif stat.S_ISREG(mode):
                    ref = self._blob_of(item.path, st, store=True)
                    counts[0] += 1
                    counts[1] += st.st_size
                    entries.append([item.name, "f", *meta, st.st_size, st.st_mtime_ns, ref])
                elif stat.S_ISLNK(mode):
                    target = os.readlink(item.path)
                    counts[0] += 1
                    entries.append([item.name, "l", *meta, 0, st.st_mtime_ns, target])
                # Sockets, fifos and devices are not content: not kept.
            except FileNotFoundError:
                continue  # removed while we looked: the checkpoint is of what remained
        cached = self.dirs.get(path)
        if cached is not None and cached[0] == entries:
            return cached[1]
        digest = self._put_bytes(json.dumps(entries, separators=(",", ":")).encode())
        self.dirs[path] = (entries, digest)
        return digest

    def _root_entry(self) -> Entry:
        st = os.lstat(self.workspace)
        return [stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns]

    def snapshot(self, conversation: str, ref: str | None = None) -> dict[str, object]:
        """The workspace as a tree (plus its root's metadata), named by ``ref`` if given."""
        with self._working(conversation):
            start = time.monotonic()
            self.scan_start = time.time_ns()
            self.written = 0
            counts = [0, 0]
            tree = self._scan(self.workspace, counts)
            # The root directory's own mode and owner travel in a small wrapper object.
            root = self._put_bytes(json.dumps({"tree": tree, "root": self._root_entry()}).encode())
            if ref is not None:
                self._write_ref(conversation, ref, root)
            return {
                "tree": root,
                "files": counts[0],
                "bytes": counts[1],
                "written": self.written,
                "seconds": time.monotonic() - start,
            }

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

    def _root(self, digest: str) -> tuple[str, Entry]:
        wrapper = json.loads(self._get(digest))
        return wrapper["tree"], wrapper["root"]

    # -- restore ---------------------------------------------------------------------------

    def restore(self, conversation: str, tree: str) -> dict[str, object]:
        """Make the workspace exactly ``tree``: extra entries go, missing ones come back."""
        if not os.path.exists(self._path(tree)):
            raise StoreError("that checkpoint was pruned: its content is no longer kept")
        with self._working(conversation):
            start = time.monotonic()
            self.scan_start = time.time_ns()
            counts = [0, 0]
            top, root_meta = self._root(tree)
            self._restore_dir(self.workspace, top, counts)
            mode, uid, gid, mtime = root_meta
            meta = [mode, uid, gid, 0, mtime]
            self._set_meta(self.workspace, "d", meta, os.lstat(self.workspace))
            return {"written": counts[0], "removed": counts[1], "seconds": time.monotonic() - start}

    def _restore_dir(self, path: str, tree: str, counts: list[int]) -> None:
        want = {str(entry[NAME]): entry for entry in self._tree(tree)}
        with os.scandir(path) as found:
            have = {item.name: item for item in found}
        for name, item in have.items():
            if name not in want:
                _remove(item.path)
                counts[1] += 1
        for name, entry in want.items():
            target = os.path.join(path, _safe_name(name))
            try:
                st: os.stat_result | None = os.lstat(target)
            except FileNotFoundError:
                st = None
            kind = str(entry[TYPE])
            if kind == "d":
                if st is not None and not stat.S_ISDIR(st.st_mode):
                    _remove(target)
                    st = None
                if st is None:
                    os.mkdir(target, 0o700)
                self._restore_dir(target, str(entry[REF]), counts)
                st = os.lstat(target)  # its children changed its mtime
            elif kind == "f":
                same = (
                    st is not None
                    and stat.S_ISREG(st.st_mode)
                    and self._blob_of(target, st, store=False) == entry[REF]
                )
                if not same:
                    self._place_file(target, str(entry[REF]), st)
                    counts[0] += 1
                    st = None
            elif kind == "l":
                same = (
                    st is not None
                    and stat.S_ISLNK(st.st_mode)
                    and os.readlink(target) == entry[REF]
                )
                if not same:
                    tmp = _temp_name(target)
                    os.symlink(str(entry[REF]), tmp)
                    _replace(tmp, target, st)
                    counts[0] += 1
                    st = None
            self._set_meta(target, kind, entry[MODE : MTIME + 1], st)

    def _place_file(self, target: str, blob: str, st: os.stat_result | None) -> None:
        tmp = _temp_name(target)
        unpacker = zlib.decompressobj()
        with open(self._path(blob), "rb") as source, open(tmp, "wb") as handle:
            while chunk := source.read(CHUNK):
                handle.write(unpacker.decompress(chunk))
            handle.write(unpacker.flush())
        _replace(tmp, target, st)

    @staticmethod
    def _set_meta(path: str, kind: str, meta: Entry, st: os.stat_result | None) -> None:
        """Owner, mode and mtime as recorded; only what differs is touched, since each
        change moves the ctime, and a moved ctime costs the next checkpoint a read."""
        mode, uid, gid, _size, mtime = meta
        link = kind == "l"
        if st is None or (st.st_uid, st.st_gid) != (uid, gid):
            with contextlib.suppress(OSError):  # an owner the file system cannot hold
                os.chown(path, uid, gid, follow_symlinks=False)
            st = None  # chown clears set-id bits: the mode goes on again
        if not link and (st is None or stat.S_IMODE(st.st_mode) != mode):
            os.chmod(path, mode)
        if st is None or st.st_mtime_ns != mtime:
            with contextlib.suppress(OSError, NotImplementedError):
                os.utime(path, ns=(mtime, mtime), follow_symlinks=not link)

    # -- changes ---------------------------------------------------------------------------

    def changes(self, conversation: str, old: str, new: str | None) -> dict[str, object]:
        """Files and links added, modified or deleted from ``old`` to ``new`` (None: now)."""
        if new is None:
            new = str(self.snapshot(conversation)["tree"])
        found: list[dict[str, object]] = []
        self._compare(self._root(old)[0], self._root(new)[0], "", found)
        return {"changes": found, "tree": new}

    def _compare(
        self, old: str | None, new: str | None, prefix: str, found: list[dict[str, object]]
    ) -> None:
        if old == new:
            return
        before = {str(e[NAME]): e for e in self._tree(old)} if old else {}
        after = {str(e[NAME]): e for e in self._tree(new)} if new else {}
        for name in sorted(set(before) | set(after)):
            a, b = before.get(name), after.get(name)
            path = f"{prefix}/{name}"
            a_dir = a is not None and a[TYPE] == "d"
            b_dir = b is not None and b[TYPE] == "d"
            if a_dir or b_dir:
                self._compare(
                    str(a[REF]) if a_dir and a else None,
                    str(b[REF]) if b_dir and b else None,
                    path,
                    found,
                )
                a = None if a_dir else a
                b = None if b_dir else b
            if a is None and b is None:
                continue
            if a is not None and b is not None:
                if a[TYPE] == b[TYPE] and a[REF] == b[REF] and a[MODE] == b[MODE]:
                    continue
                kind = "modified"
            else:
                kind = "added" if a is None else "deleted"
            found.append(self._change(WORKSPACE + path, kind, a, b))

    def _change(self, path: str, kind: str, a: Entry | None, b: Entry | None) -> dict[str, object]:
        def side(entry: Entry | None) -> tuple[bytes | None, int]:
            if entry is None:
                return None, 0
            if entry[TYPE] == "l":
                return f"-> {entry[REF]}\n".encode(), 0
            return self._get(str(entry[REF])), int(entry[SIZE])

        old_data, old_size = side(a)
        new_data, new_size = side(b)
        change: dict[str, object] = {
            "path": path,
            "kind": kind,
            "old_size": old_size,
            "new_size": new_size,
            "old_mode": a[MODE] if a else None,
            "new_mode": b[MODE] if b else None,
            "binary": False,
            "diff": None,
        }
        old_text, new_text = _text(old_data), _text(new_data)
        if old_text is None or new_text is None:
            change["binary"] = True
            return change
        lines = difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile="/dev/null" if a is None else "a" + path,
            tofile="/dev/null" if b is None else "b" + path,
        )
        diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        if len(diff) > DIFF_OUTPUT_LIMIT:
            diff = diff[:DIFF_OUTPUT_LIMIT] + "\n... (diff cut: too long)\n"
        change["diff"] = diff
        return change

    def read(self, tree: str, path: str) -> dict[str, object]:
        """The content of ``path`` (absolute, under /workspace) in checkpoint ``tree``."""
        rel = os.path.relpath(path, WORKSPACE)
        current = self._root(tree)[0]
        parts = [part for part in rel.split("/") if part not in ("", ".")]
        for index, part in enumerate(parts):
            entries = {str(e[NAME]): e for e in self._tree(current)}
            entry = entries.get(part)
            if entry is None:
                raise StoreError(f"{path} is not in that checkpoint")
            if index == len(parts) - 1:
                if entry[TYPE] != "f":
                    raise StoreError(f"{path} is not a file in that checkpoint")
                return {"data": base64.b64encode(self._get(str(entry[REF]))).decode()}
            current = str(entry[REF])
        raise StoreError(f"{path} is not a file")

    # -- refs, space -----------------------------------------------------------------------

    def copy_refs(self, conversation: str, refs: dict[str, str]) -> dict[str, object]:
        with self._lock("gc", exclusive=False):
            for ref, root in refs.items():
                self._path(root)  # validates the id
                self._write_ref(conversation, ref, root)
        return {"copied": len(refs)}

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
            with open(os.path.join(self.root, "gc.generation"), "w") as handle:
                handle.write(secrets.token_hex(8))
            return {"removed": removed, "freed": freed}

    def _mark_root(self, root: str, live: set[str]) -> None:
        if root in live or not os.path.exists(self._path(root)):
            return
        live.add(root)
        self._mark_tree(self._root(root)[0], live)

    def _mark_tree(self, tree: str, live: set[str]) -> None:
        if tree in live:
            return
        live.add(tree)
        for entry in self._tree(tree):
            if entry[TYPE] == "d":
                self._mark_tree(str(entry[REF]), live)
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


def _text(data: bytes | None) -> str | None:
    if data is None:
        return ""
    if len(data) > TEXT_DIFF_LIMIT or b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _temp_name(target: str) -> str:
    folder, name = os.path.split(target)
    return os.path.join(folder, f".berth-restore-{secrets.token_hex(4)}-{name}"[:255])


def _replace(tmp: str, target: str, st: os.stat_result | None) -> None:
    if st is not None and stat.S_ISDIR(st.st_mode):
        _remove(target)  # rename cannot put a file over a directory
    os.replace(tmp, target)


def _remove(path: str) -> None:
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        with os.scandir(path) as found:
            for item in found:
                _remove(item.path)
        os.rmdir(path)
    else:
        os.unlink(path)


def serve(store: Store) -> None:
    operations: dict[str, Callable[..., dict[str, object]]] = {
        "snapshot": store.snapshot,
        "restore": store.restore,
        "changes": store.changes,
        "read": store.read,
        "copy_refs": store.copy_refs,
        "drop_refs": store.drop_refs,
        "gc": store.gc,
        "prune": store.prune,
        "usage": store.usage,
        "ping": lambda: {"pong": True},
    }
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            operation = operations[request.pop("op")]
            answer = {"ok": True, "result": operation(**request)}
        except Exception as exc:  # every failure is an answer; the server carries on
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    serve(Store())
