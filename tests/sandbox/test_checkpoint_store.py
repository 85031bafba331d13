"""The checkpoint store against a real engine (local and over TCP): the helper container,
snapshot, restore byte for byte, content stored once, gc, a killed server."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from sandbox.checkpoints import CheckpointError, CheckpointStore, workspace_mount
from tests.support.fingerprint import DAMAGE, SEED, fingerprint


@contextlib.contextmanager
def killing_the_server(store: CheckpointStore, every: float) -> Iterator[None]:
    """The store's helper server is kill -9'd every ``every`` seconds meanwhile."""
    helper = store.container
    assert helper is not None
    stop = threading.Event()

    def keep_killing() -> None:
        script = (
            "for p in /proc/[0-9]*; do grep -q helper_main.py $p/cmdline 2>/dev/null "
            "&& kill -9 ${p#/proc/}; done"
        )
        while not stop.wait(every):
            helper.exec_run(["bash", "-c", script])

    killer = threading.Thread(target=keep_killing, daemon=True)
    killer.start()
    try:
        yield
    finally:
        stop.set()
        killer.join()


@pytest.fixture
def store(ws):
    made = CheckpointStore(ws.conversation_id, workspace_mount(ws.container), client=ws.client)
    yield made
    made.close()


def seeded(ws) -> str:
    ws.execute(SEED)
    return fingerprint(ws)


def test_a_damaging_step_is_restored_byte_for_byte(ws, store):
    before = seeded(ws)
    assert ws.execute("command -v python3 git").exit_code != 0  # the agent's image: bash only
    snapshot = store.snapshot("before")
    assert snapshot.files == 7
    ws.execute(DAMAGE)
    assert fingerprint(ws) != before

    store.restore(snapshot.tree)
    assert fingerprint(ws) == before
    assert ws.read_bytes("/workspace/src/.git/HEAD") == b"ref: refs/heads/main\n"


def test_an_unchanged_workspace_adds_nothing_and_content_is_stored_once(ws, store):
    seeded(ws)
    store.snapshot("seeded")
    start = store.usage().bytes  # the store is shared: only what this test adds counts
    ws.execute("head -c 200000 /dev/urandom > /workspace/big && cp /workspace/big /workspace/copy")
    first = store.snapshot("one")
    used = store.usage().bytes
    again = store.snapshot("two")
    assert again.tree == first.tree and again.written == 0
    assert store.usage().bytes == used
    # Two files with the same 200 kB: one blob (random bytes do not compress).
    assert 200_000 < used - start < 200_000 * 1.5


def test_checkpoint_and_restore_while_the_container_is_frozen(ws, store):
    seeded(ws)
    first = store.snapshot("first")
    ws.execute("echo later > /workspace/later.txt")
    ws.freeze()
    try:
        changes = store.changes(first.tree)
        assert [(c.path, c.kind) for c in changes] == [("/workspace/later.txt", "added")]
        store.restore(first.tree)
    finally:
        ws.thaw()
    assert not ws.exists("/workspace/later.txt")


def test_changes_list_kinds_with_diffs_and_binaries_by_size(ws, store):
    seeded(ws)
    first = store.snapshot("first")
    ws.execute(DAMAGE + "\nhead -c 10 /dev/urandom >> blob.bin")
    changes = {c.path: c for c in store.changes(first.tree)}
    assert changes["/workspace/added.txt"].kind == "added"
    assert changes["/workspace/docs/notes.txt"].kind == "deleted"
    assert changes["/workspace/src/.git/HEAD"].kind == "deleted"
    app = changes["/workspace/src/app.py"]
    assert app.kind == "modified" and "-    return 1\n+    return 2\n" in (app.diff or "")
    blob = changes["/workspace/blob.bin"]
    assert blob.binary and blob.diff is None and (blob.old_size, blob.new_size) == (3000, 3010)
    assert changes["/workspace/run.sh"].new_mode == 0o600
    assert store.read(first.tree, "/workspace/src/app.py").endswith(b"return 1\n")


def test_gc_frees_what_no_checkpoint_needs(ws, store):
    seeded(ws)
    ws.execute("head -c 300000 /dev/urandom > /workspace/big")
    store.snapshot("with-big")
    ws.execute("rm /workspace/big")
    store.snapshot("without")
    before = store.usage().bytes
    store.forget(["with-big"])
    freed = store.gc()
    assert freed > 300_000 and store.usage().bytes < before - 300_000


def test_a_server_killed_mid_restore_leaves_a_store_that_finishes_the_restore(ws, store):
    seeded(ws)
    first = store.snapshot("first")
    before = fingerprint(ws)
    # Enough to restore (24 MB in 768 files) that a kill lands part way through.
    ws.execute(
        "(mkdir -p /workspace/many && cd /workspace/many && "
        "head -c 25165824 /dev/urandom | split -b 32768 -a 3)"
    )
    after = fingerprint(ws)
    many = store.snapshot("many")
    store.restore(first.tree)
    with killing_the_server(store, every=0.1), pytest.raises(CheckpointError):
        for _ in range(50):
            store.restore(many.tree)
            store.restore(first.tree)
    # The store opens again (a new server) and running the restore again finishes it.
    store.restore(many.tree)
    assert fingerprint(ws) == after
    store.restore(first.tree)
    assert fingerprint(ws) == before


def test_prune_keeps_the_first_and_the_newest_checkpoints(ws):
    import time
    import uuid

    from sandbox.checkpoints import store_only

    # A conversation of its own: its first checkpoint is the first taken here.
    store = CheckpointStore(uuid.uuid4().hex, workspace_mount(ws.container), client=ws.client)
    seeded(ws)
    trees = []
    for n in range(5):
        ws.execute(f"head -c 50000 /dev/urandom > /workspace/step{n}")
        trees.append(store.snapshot(f"step{n}").tree)
        time.sleep(0.05)  # refs are ordered by when they were written
    maintenance = store_only(ws.client)
    try:
        before = maintenance.usage().bytes
        assert maintenance.prune(keep_last=2) > 0
        assert maintenance.usage().bytes < before
    finally:
        maintenance.close()
    store.restore(trees[0])  # the first is kept
    store.restore(trees[4])  # and the newest
    with pytest.raises(CheckpointError, match="pruned"):
        store.restore(trees[1])
    store.close()


def test_a_server_killed_mid_checkpoint_leaves_a_store_that_opens(ws, store):
    seeded(ws)
    first = store.snapshot("before-kill")
    before = fingerprint(ws)
    with killing_the_server(store, every=0.05), pytest.raises(CheckpointError):
        for n in range(50):  # new content each time, 16 MB to hash and store
            ws.execute(
                f"(mkdir -p /workspace/fresh{n} && cd /workspace/fresh{n} && "
                "head -c 16777216 /dev/urandom | split -b 65536 -a 3)"
            )
            store.snapshot(f"killed{n}")
    # A new server opens the store; the checkpoint is taken again, and both restore.
    after = fingerprint(ws)
    again = store.snapshot("again")
    store.restore(first.tree)
    assert fingerprint(ws) == before
    store.restore(again.tree)
    assert fingerprint(ws) == after
