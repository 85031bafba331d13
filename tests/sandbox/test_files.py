"""Files through the archive API, on the local and the TCP engine, running and frozen."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import DockerWorkspace, NoSuchPathError, PathOutsideError


@pytest.fixture
def frozen(ws: DockerWorkspace) -> Iterator[DockerWorkspace]:
    ws.freeze()
    try:
        yield ws
    finally:
        ws.thaw()


def test_text_and_binary_round_trips(ws: DockerWorkspace):
    text = "héllo wörld\n中文\r\nno newline at end".encode()
    ws.write_bytes("/workspace/round/text.txt", text)
    assert ws.read_bytes("/workspace/round/text.txt") == text
    binary = bytes(range(256)) * 64
    ws.write_bytes("/workspace/round/blob.bin", binary)
    assert ws.read_bytes("/workspace/round/blob.bin") == binary
    # The shell sees the very same bytes.
    shown = ws.execute("md5sum /workspace/round/blob.bin", timeout=30).output.split()[0]
    assert shown == hashlib.md5(binary).hexdigest()
    ws.write_bytes("/workspace/round/empty", b"")
    assert ws.read_bytes("/workspace/round/empty") == b""


def test_a_50_mb_file_round_trips(ws: DockerWorkspace, tmp_path: Path):
    data = os.urandom(50 * 1024 * 1024)
    ws.write_bytes("/workspace/big/fifty.bin", data)
    assert ws.read_bytes("/workspace/big/fifty.bin") == data
    seen: list[tuple[int, int]] = []
    saved = ws.download(
        "/workspace/big/fifty.bin", tmp_path, progress=lambda d, t: seen.append((d, t))
    )
    assert saved == tmp_path / "fifty.bin"
    assert hashlib.sha256(saved.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert len(seen) > 1 and seen[-1][0] >= len(data) and seen[-1][1] >= len(data)
    ws.execute("rm -rf /workspace/big", timeout=30)


def test_write_creates_parents_and_keeps_mode(ws: DockerWorkspace):
    ws.write_bytes("/workspace/deep/er/run.sh", b"#!/bin/bash\necho ran\n", mode=0o755)
    assert ws.execute("/workspace/deep/er/run.sh", timeout=30).output == "ran\n"
    ws.write_bytes("/tmp/writable-check", b"x")
    # Existing parents keep their own modes (/tmp stays world-writable with its sticky bit).
    assert ws.execute("stat -c %a /tmp", timeout=30).output.strip() == "1777"


def test_list_dir_names_kinds_sizes_modes(ws: DockerWorkspace):
    ws.execute(
        "rm -rf /workspace/ls && mkdir -p /workspace/ls/sub && cd /workspace/ls && "
        "printf 12345 > five && chmod 600 five && ln -s five link && mkfifo pipe && cd /workspace",
        timeout=30,
    )
    entries = {e.name: e for e in ws.list_dir("/workspace/ls")}
    assert sorted(entries) == ["five", "link", "pipe", "sub"]
    assert entries["five"].kind == "file" and entries["five"].size == 5
    assert entries["five"].mode == 0o600 and entries["five"].path == "/workspace/ls/five"
    assert entries["sub"].kind == "dir" and entries["link"].kind == "symlink"
    assert entries["pipe"].kind == "other"
    assert entries["five"].mtime.year >= 2024
    root = {e.name for e in ws.list_dir("/")}
    assert {"bin", "etc", "workspace", "tmp"} <= root


def test_big_folders_list_the_same_running_and_frozen(ws: DockerWorkspace):
    ws.execute(
        "rm -rf /workspace/bigdir && mkdir -p /workspace/bigdir/nested && cd /workspace/bigdir && "
        "for i in 1 2 3 4 5 6; do head -c 2000000 /dev/zero > f$i; done && "
        "head -c 3000000 /dev/zero > nested/inner && cd /workspace",
        timeout=60,
    )
    running = ws.list_dir("/workspace/bigdir")  # past the stream limit: find answers
    ws.freeze()
    try:
        frozen = ws.list_dir("/workspace/bigdir")  # only the archive can answer now
    finally:
        ws.thaw()

    def view(entries):
        return [(e.name, e.kind, e.size if e.kind == "file" else 0, e.mode) for e in entries]

    assert view(running) == view(frozen)
    assert [e.name for e in running] == ["f1", "f2", "f3", "f4", "f5", "f6", "nested"]
    ws.execute("rm -rf /workspace/bigdir", timeout=30)


def test_reads_writes_and_listings_work_frozen(frozen: DockerWorkspace, tmp_path: Path):
    ws = frozen
    ws.write_bytes("/workspace/frozen/note.txt", b"written while frozen")
    assert ws.read_bytes("/workspace/frozen/note.txt") == b"written while frozen"
    assert [e.name for e in ws.list_dir("/workspace/frozen")] == ["note.txt"]
    assert ws.exists("/workspace/frozen/note.txt")
    source = tmp_path / "up"
    source.mkdir()
    (source / "a.txt").write_text("A")
    ws.upload(source, "/workspace/frozen")
    saved = ws.download("/workspace/frozen", tmp_path / "down")
    assert (saved / "note.txt").read_bytes() == b"written while frozen"
    assert (saved / "up" / "a.txt").read_text() == "A"
    ws.thaw()
    assert ws.execute("cat /workspace/frozen/up/a.txt", timeout=30).output == "A"


def test_missing_paths(ws: DockerWorkspace):
    assert not ws.exists("/workspace/nothing/here")
    with pytest.raises(NoSuchPathError):
        ws.read_bytes("/workspace/nothing/here")
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError, for plain callers
        ws.list_dir("/workspace/nothing")


def test_writing_through_a_symlink_keeps_the_link(ws: DockerWorkspace):
    ws.execute("mkdir -p /workspace/sl && echo old > /workspace/sl/target && "
               "ln -sf target /workspace/sl/link", timeout=30)  # fmt: skip
    ws.write_bytes("/workspace/sl/link", b"new\n")
    assert ws.read_bytes("/workspace/sl/target") == b"new\n"
    assert ws.read_bytes("/workspace/sl/link") == b"new\n"
    link = ws.stat("/workspace/sl/link")
    assert link is not None and link.kind == "symlink"


def test_folder_upload_and_download_round_trip(ws: DockerWorkspace, tmp_path: Path):
    source = tmp_path / "project"
    (source / "src" / "pkg").mkdir(parents=True)
    (source / "src" / "pkg" / "mod.py").write_text("print('hi')\n")
    (source / "data.bin").write_bytes(os.urandom(300_000))
    (source / "empty").mkdir()
    (source / "rel-link").symlink_to("data.bin")
    sent: list[tuple[int, int]] = []
    ws.upload(source, "/workspace/uploads/new", progress=lambda d, t: sent.append((d, t)))
    assert sent and sent[-1][0] == sent[-1][1] > 300_000
    listing = ws.execute("cd /workspace/uploads/new/project && find . | sort && cd /workspace",
                         timeout=30).output  # fmt: skip
    assert listing.split() == [".", "./data.bin", "./empty", "./rel-link", "./src",
                               "./src/pkg", "./src/pkg/mod.py"]  # fmt: skip
    back = ws.download("/workspace/uploads/new/project", tmp_path / "back")
    assert back == tmp_path / "back" / "project"
    assert (back / "data.bin").read_bytes() == (source / "data.bin").read_bytes()
    assert (back / "src" / "pkg" / "mod.py").read_text() == "print('hi')\n"
    assert (back / "rel-link").is_symlink() and os.readlink(back / "rel-link") == "data.bin"
    assert (back / "empty").is_dir()


def _tar(*members: tuple[str, str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                assert isinstance(payload, bytes)
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
            info.linkname = str(payload)
            tar.addfile(info)
    return out.getvalue()


@pytest.mark.parametrize(
    "members",
    [
        [("/tmp/evil-abs", "file", b"x")],
        [("../evil-up", "file", b"x")],
        [("ok/../../evil-deep", "file", b"x")],
        [("evil-link", "symlink", "/etc")],
        [("evil-rel-link", "symlink", "../../etc")],
        [("evil-hard", "hardlink", "../../etc/passwd")],
    ],
    ids=["absolute", "dotdot", "nested-dotdot", "abs-symlink", "rel-symlink-out", "hardlink-out"],
)
def test_tars_reaching_outside_are_refused(ws: DockerWorkspace, members):
    ws.execute("rm -rf /workspace/jail /tmp/evil-abs && mkdir -p /workspace/jail", timeout=30)
    with pytest.raises(PathOutsideError):
        ws.put_archive("/workspace/jail", _tar(("good.txt", "file", b"fine"), *members))
    # Nothing of the tar was unpacked, inside or out.
    assert ws.list_dir("/workspace/jail") == []
    assert not ws.exists("/tmp/evil-abs") and not ws.exists("/workspace/evil-up")


def test_safe_tars_are_put(ws: DockerWorkspace):
    ws.put_archive("/workspace/safe", _tar(("a/b.txt", "file", b"B"), ("a/l", "symlink", "b.txt")))
    assert ws.read_bytes("/workspace/safe/a/l") == b"B"


def test_download_refuses_links_pointing_out(ws: DockerWorkspace, tmp_path: Path):
    ws.execute(
        "rm -rf /workspace/trap && mkdir -p /workspace/trap && echo ok > /workspace/trap/ok && "
        "ln -s /etc/passwd /workspace/trap/passwd && ln -s ../../../.. /workspace/trap/up",
        timeout=30,
    )
    target = tmp_path / "dest"
    with pytest.raises(PathOutsideError):
        ws.download("/workspace/trap", target)
    assert not (target / "trap" / "passwd").exists()
    assert not (target / "trap" / "up").exists()
