"""Extraction of untrusted tars on the host: nothing may land outside the target folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from sandbox import PathOutsideError
from sandbox.tarsafe import ChunkReader, extract, open_stream


def _stream(*members: tarfile.TarInfo, payload: bytes = b"data") -> tarfile.TarFile:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for info in members:
            if info.isfile():
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                tar.addfile(info)
    data = out.getvalue()
    return open_stream(ChunkReader([data[i : i + 700] for i in range(0, len(data), 700)]))


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def test_a_symlink_chain_that_climbs_out_is_refused(tmp_path: Path):
    # Each link looks harmless as text; together "d2" would resolve to the parent folder.
    dest = tmp_path / "dest"
    with pytest.raises(PathOutsideError):
        extract(_stream(_link("d", "."), _link("d2", "d/..")), dest)
    assert not (dest / "d2").exists()


def test_writing_through_an_earlier_link_is_refused(tmp_path: Path):
    dest = tmp_path / "dest"
    outside = tarfile.TarInfo("up/escaped.txt")
    with pytest.raises(PathOutsideError):
        extract(_stream(_link("up", ".."), outside), dest)
    assert not (tmp_path / "escaped.txt").exists()


def test_ordinary_trees_extract(tmp_path: Path):
    folder = tarfile.TarInfo("pkg")
    folder.type = tarfile.DIRTYPE
    extract(_stream(folder, tarfile.TarInfo("pkg/a.txt"), _link("pkg/b", "a.txt")), tmp_path)
    assert (tmp_path / "pkg" / "a.txt").read_bytes() == b"data"
    assert (tmp_path / "pkg" / "b").read_bytes() == b"data"
