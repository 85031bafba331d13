"""Where a download lands on the host: the one path it returns, inside the target folder.

The container is hostile: its tar may name anything, and a link in it may point at the user's
own files. So a download is unpacked into a private staging folder made inside the target
folder (same filesystem, so the last step is one rename), must hold exactly one top-level
entry, and that entry is renamed to a name that is free in the target folder. Nothing else
on the host is written, replaced or moved; a failed download leaves nothing behind.

The rule the UI states (DOWNLOAD_RULE): a link is downloaded as what it points to inside
the container, under the link's own name; a name already taken in the target folder gets a
numbered copy ("report (1).txt"), never an overwrite.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sandbox.errors import PathOutsideError, SandboxError

DOWNLOAD_RULE = (
    "A link downloads what it points to in the container, under the link's name; "
    "a name already taken in the target folder gets a numbered copy, never an overwrite."
)
_MAX_COPIES = 1000


def _numbered(name: str, number: int) -> str:
    # "report.txt" -> "report (1).txt"; a dotfile or a folder keeps its whole name as stem.
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}){dot}{suffix}"


def free_name(folder: Path, name: str) -> Path:
    """``folder / name``, or the first numbered copy of it that nothing occupies."""
    candidate = folder / name
    for number in range(1, _MAX_COPIES + 1):
        if not os.path.lexists(candidate):
            return candidate
        candidate = folder / _numbered(name, number)
    raise SandboxError(f"{folder} already holds {_MAX_COPIES} copies of {name}.")


@contextlib.contextmanager
def staging(host_dir: Path) -> Iterator[Path]:
    """A private folder inside ``host_dir`` for the download, removed whatever happens."""
    host_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".berth-download-", dir=host_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def land(staged: Path, host_dir: Path, name: str, asked: str) -> Path:
    """Move the single entry unpacked in ``staged`` to a free ``name`` in ``host_dir``."""
    entries = list(staged.iterdir())
    if not entries:
        raise SandboxError(
            f"{asked} is neither a file nor a folder (a device or a pipe?): nothing was downloaded."
        )
    if len(entries) != 1:
        shown = ", ".join(sorted(entry.name for entry in entries)[:5])
        raise PathOutsideError(
            f"Refused the download of {asked}: the container sent several top-level entries "
            f"({shown}) where one was asked for. Nothing was written."
        )
    (entry,) = entries
    if entry.is_symlink():  # only a link left at the top: it would name a host path
        raise PathOutsideError(
            f"Refused the download of {asked}: it is a link that leads nowhere inside the "
            "container. Nothing was written."
        )
    final = free_name(host_dir, name)
    # A rename never follows a link at the destination, and free_name found nothing there.
    os.rename(entry, final)
    return final
