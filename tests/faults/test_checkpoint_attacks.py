"""A hostile agent against the checkpoint helper, on the real engine: a process that swaps
its directories for symlinks into the helper's store while checkpoints and restores run,
trees deeper than the recursion limit and paths longer than PATH_MAX, a sparse file of
8 GiB, files over the size limits, a helper that stops answering, a file too big to diff.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

import docker.errors
import pytest

from sandbox import DockerWorkspace
from sandbox.checkpoints import (
    CheckpointError,
    CheckpointStore,
    Deadlines,
    StoreLimits,
    helper_image,
    workspace_mount,
)
from tests.support.workspaces import started_workspace

SECRET = "b-secret-7f3a9c"

# renameat2(RENAME_EXCHANGE) in a loop: /workspace/dN (directories) and /workspace/lN
# (symlinks to the store's objects, as the helper sees its own file system) trade places.
PAIRS = 16
SWAPPER = b"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
os.chdir("/workspace")
pairs = [(b"d%d" % n, b"l%d" % n) for n in range(16)]
while True:
    for d, l in pairs:
        libc.renameat2(-100, d, -100, l, 2)
"""

# Every file of /workspace, raw and zlib-inflated: does any hold the other conversation's
# secret, or look like a store object (a 62-hex-digit name)?
LOOK = r"""
import os, re, sys, zlib
found = 0
for folder, dirs, files in os.walk("/workspace"):
    for name in files:
        path = os.path.join(folder, name)
        if re.fullmatch("[0-9a-f]{62}", name):
            found += 1
            continue
        try:
            data = open(path, "rb").read()
        except OSError:
            continue
        try:
            data += zlib.decompress(data)
        except zlib.error:
            pass
        found += sys.argv[1].encode() in data
print(found)
"""

KILL_SWAPPER = (
    "for p in /proc/[0-9]*; do grep -q swap.py $p/cmdline 2>/dev/null && kill -9 ${p#/proc/}; "
    "done; true"
)


def make_store(ws: DockerWorkspace, **options: object) -> CheckpointStore:
    return CheckpointStore(
        ws.conversation_id or "", workspace_mount(ws.container), client=ws.client, **options
    )


@pytest.fixture
def stores() -> Iterator[Callable[..., CheckpointStore]]:
    made: list[CheckpointStore] = []

    def make(ws: DockerWorkspace, **options: object) -> CheckpointStore:
        store = make_store(ws, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.destroy()


@pytest.fixture
def python_ws() -> Iterator[DockerWorkspace]:
    """An agent's container with python3 (the helper's image), for the renameat2 loop."""
    with started_workspace(helper_image(), prefix="fault") as workspace:
        yield workspace


def test_a_symlink_swapping_agent_reaches_no_other_conversations_checkpoints(
    make_ws, python_ws, stores
):
    victim_ws = make_ws()
    victim_ws.start()
    victim = stores(victim_ws)
    victim_ws.execute(f"echo {SECRET} > /workspace/secret.txt; seq 1 5000 > /workspace/n.txt")
    victim_tree = victim.snapshot("b1").tree
    victim_objects = victim.usage().objects

    attacker_ws = python_ws
    attacker = stores(attacker_ws)
    attacker_ws.execute(
        f"cd /workspace && for n in $(seq 0 {PAIRS - 1}); do mkdir -p d$n/sub && "
        "echo mine > d$n/sub/f && ln -s /store/objects l$n; done"
    )
    first = attacker.snapshot("a0")
    attacker_ws.write_bytes("/tmp/look.py", LOOK.encode())
    attacker_ws.write_bytes("/tmp/swap.py", SWAPPER)
    attacker_ws.execute("setsid python3 /tmp/swap.py > /dev/null 2>&1 < /dev/null &")
    trees = []
    for n in range(8):
        trees.append(attacker.snapshot(f"race{n}").tree)
        # A restore that meets a swap mid-way may fail; it must never write elsewhere.
        with contextlib.suppress(CheckpointError):
            attacker.restore(first.tree)
    attacker_ws.execute(KILL_SWAPPER)

    stolen = [c.path for t in trees for c in attacker.changes(first.tree, t)]
    stolen = [p for p in stolen if re.search(r"/[0-9a-f]{62}$|/objects/", p)]
    attacker.restore(first.tree)
    for tree in trees:  # each race checkpoint, put back where the agent can read it
        attacker.restore(tree)
        look = attacker_ws.execute(f"python3 /tmp/look.py {SECRET}")
        assert look.output.strip() == "0", look.output
    attacker.restore(first.tree)
    assert attacker_ws.read_bytes(f"/workspace/d{PAIRS - 1}/sub/f") == b"mine\n"
    assert stolen == []

    # The other conversation never noticed: every object kept, its rewind intact.
    assert victim.usage().objects == victim_objects
    victim_ws.execute("rm -f /workspace/secret.txt /workspace/n.txt")
    victim.restore(victim_tree)
    assert victim_ws.read_bytes("/workspace/secret.txt") == f"{SECRET}\n".encode()


DEEP = "$(printf 'd/%.0s' $(seq 1200))"
LONG_PATH = (
    "mkdir -p /workspace/long && cd /workspace/long && "
    "for i in $(seq 110); do n=n_$(printf '%040d' $i); mkdir $n && cd $n; done && "
    "echo far > far.txt"
)
# Every entry with its type, mode and size, and every file's hash from its own directory
# (find -execdir: no path passed to md5sum is longer than one name).
LISTING = (
    "cd /workspace && LC_ALL=C find . -mindepth 1 -printf '%d|%y|%m|%s|%f\\n' | LC_ALL=C sort"
    " && find . -type f -execdir md5sum {} + | LC_ALL=C sort"
)


def test_a_tree_1200_deep_and_a_path_over_path_max_round_trip(ws, stores):
    store = stores(ws)
    ws.execute(
        "cd /workspace && rm -rf ./* && mkdir -p " + DEEP + " && echo bottom > " + DEEP + "b"
    )
    assert ws.execute(LONG_PATH).exit_code == 0
    before = ws.execute(LISTING, timeout=120).output
    assert "far.txt" in before and "|b\n" in before
    snapshot = store.snapshot("deep")
    assert snapshot.files == 2
    ws.execute("rm -rf /workspace/d /workspace/long")
    store.restore(snapshot.tree)
    assert ws.execute(LISTING, timeout=120).output == before
    # And a later checkpoint still works (the depth does not poison the store).
    assert store.snapshot("again").tree == snapshot.tree


def test_a_sparse_file_is_kept_small_and_restored_sparse(ws, stores):
    store = stores(ws)
    gib = 1 << 30
    ws.execute(
        "cd /workspace && rm -rf ./* && truncate -s 8G sparse && "
        "head -c 3000000 /dev/urandom > /tmp/data && "
        "dd if=/tmp/data of=sparse bs=1M seek=4096 conv=notrunc status=none"
    )
    want = ws.execute("md5sum < /tmp/data").output
    before = store.usage().bytes
    snapshot = store.snapshot("sparse")
    assert snapshot.bytes == 8 * gib and snapshot.skipped == 0
    assert store.usage().bytes - before < 4_000_000  # the data, not the 8 GiB of holes

    ws.execute("rm /workspace/sparse")
    store.restore(snapshot.tree)
    size, blocks = ws.execute("stat -c '%s %b' /workspace/sparse").output.split()
    assert int(size) == 8 * gib
    assert int(blocks) * 512 < 16_000_000  # written sparse, not 8 GiB of zeros
    got = ws.execute(
        f"tail -c +{4096 * (1 << 20) + 1} /workspace/sparse | head -c 3000000 | md5sum"
    )
    assert got.output == want


def test_files_over_the_limits_are_kept_out_with_a_note_and_left_be(ws, stores):
    store = stores(ws)
    ws.execute(
        "cd /workspace && rm -rf ./* && head -c 2000000 /dev/urandom > huge.bin && "
        "head -c 600000 /dev/urandom > a.bin && head -c 600000 /dev/urandom > b.bin && "
        "echo small > small.txt"
    )
    snapshot = store.snapshot("limited", max_file_bytes=1_000_000)
    assert snapshot.skipped == 1 and snapshot.files == 3
    assert "/workspace/huge.bin" in snapshot.notes[0] and "per-file limit" in snapshot.notes[0]
    ws.execute("echo changed > /workspace/small.txt && echo more >> /workspace/huge.bin")
    huge = ws.read_bytes("/workspace/huge.bin")
    store.restore(snapshot.tree)
    assert ws.read_bytes("/workspace/small.txt") == b"small\n"
    assert ws.read_bytes("/workspace/huge.bin") == huge  # kept out, so left as it is

    # Two new files of 600 kB: one fits the checkpoint's 1 MB of new data, one does not.
    ws.execute("cd /workspace && for f in c d; do head -c 600000 /dev/urandom > $f.bin; done")
    capped = store.snapshot("capped", max_file_bytes=1_000_000, max_new_bytes=1_000_000)
    assert capped.skipped == 2  # huge.bin, and one of the two
    assert any("checkpoint's limit" in note for note in capped.notes)


def test_a_call_past_its_deadline_replaces_the_helper(ws, stores):
    store = stores(ws, deadlines=Deadlines(other=2.0))
    store.usage()
    helper = store.container
    assert helper is not None
    helper.pause()  # a helper that never answers
    with pytest.raises(CheckpointError, match="within 2 s"):
        store.usage()
    with pytest.raises(docker.errors.NotFound):
        helper.reload()
    assert store.usage().objects >= 0  # a new helper answers
    assert store.container is not None and store.container.id != helper.id


def test_changes_of_a_file_over_the_diff_limit_say_too_large_to_diff(ws, stores):
    store = stores(ws, limits=StoreLimits(diff_bytes=10_000))
    ws.execute("cd /workspace && rm -rf ./* && seq 1 20000 > big.txt && echo one > small.txt")
    first = store.snapshot("first")
    ws.execute("cd /workspace && seq 2 20001 > big.txt && echo two > small.txt")
    changes = {c.path: c for c in store.changes(first.tree)}
    big = changes["/workspace/big.txt"]
    assert big.kind == "modified" and big.too_large and big.diff is None
    assert "+two" in (changes["/workspace/small.txt"].diff or "")
