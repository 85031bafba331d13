"""Which changed paths git would not show: ``.git/`` itself and what ``.gitignore`` ignores.

The Changes view hides them by default (a Python run leaves dozens of ``__pycache__``
entries beside three real files). The rule is git's, read with pathspec's gitwildmatch:
each ``.gitignore`` applies below its own folder, a deeper one overrides a shallower one,
``.git/info/exclude`` comes first, the last matching pattern wins, and nothing below an
ignored folder can be taken back in. It holds for any workspace, a git one or not.

``ignored_paths`` is pure (paths and texts in, paths out); ``read_ignore_files`` fetches
the texts from a workspace through its file API, which works while the container is
frozen.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterable, Mapping
from typing import Protocol

from pathspec import GitIgnoreSpec

log = logging.getLogger(__name__)

ROOT = "/workspace"
# A bound on the folders probed for a .gitignore of their own: each probe is a request to
# the engine, and a change of 10,000 files should not make 2,000 of them. Shallowest first:
# past it, deeper folders are judged by the rules found above them.
MAX_FOLDERS = 200
IGNORE_FILE_LIMIT = 1_000_000


class _Readable(Protocol):
    def read_bytes(self, path: str, limit: int = ...) -> bytes: ...


def _relative(path: str, root: str) -> str | None:
    path = posixpath.normpath(path)
    if path == root:
        return ""
    if not path.startswith(root.rstrip("/") + "/"):
        return None
    return path[len(root.rstrip("/")) + 1 :]


def _in_git_dir(rel: str) -> bool:
    return ".git" in rel.split("/")


class IgnoreRules:
    """The ignore files found so far, by folder ("" is the root), shallowest first."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        ordered = sorted(texts.items(), key=lambda item: (item[0].count("/"), item[0]))
        self._specs = [
            (folder.strip("/"), GitIgnoreSpec.from_lines(text.splitlines()))
            for folder, text in ordered
        ]

    def _verdict(self, rel: str, is_dir: bool) -> bool:
        ignored = False
        for folder, spec in self._specs:
            if folder and not rel.startswith(folder + "/"):
                continue
            below = rel[len(folder) + 1 :] if folder else rel
            include = spec.check_file(below + "/" if is_dir else below).include
            if include is not None:
                ignored = include
        return ignored

    def ignores(self, rel: str, *, is_dir: bool = False) -> bool:
        """Whether git would ignore ``rel`` (relative to the root), or any folder above it."""
        if _in_git_dir(rel):
            return True
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            if self._verdict("/".join(parts[:depth]), True):
                return True
        return self._verdict(rel, is_dir)


def ignored_paths(
    paths: Iterable[str], ignore_files: Mapping[str, str], root: str = ROOT
) -> set[str]:
    """Of ``paths`` (absolute, files), those git would not show: inside a ``.git`` folder,
    or ignored by the ignore files (``{folder relative to root: text}``, "" for the root,
    whose text may start with ``.git/info/exclude``'s)."""
    rules = IgnoreRules(ignore_files)
    ignored = set()
    for path in paths:
        rel = _relative(path, root)
        if rel and rules.ignores(rel):
            ignored.add(path)
    return ignored


def _folders_of(paths: Iterable[str], root: str) -> list[str]:
    folders = {""}
    for path in paths:
        rel = _relative(path, root)
        if not rel or _in_git_dir(rel):
            continue
        parts = rel.split("/")[:-1]
        folders.update("/".join(parts[:depth]) for depth in range(1, len(parts) + 1))
    return sorted(folders, key=lambda f: (f.count("/") if f else -1, f))


def _read(workspace: _Readable, path: str) -> str | None:
    try:
        return workspace.read_bytes(path, IGNORE_FILE_LIMIT).decode("utf-8", "replace")
    except Exception:  # missing, a folder, too large, unreadable: no rules from it
        return None


def read_ignore_files(
    workspace: _Readable, paths: Iterable[str], root: str = ROOT
) -> dict[str, str]:
    """The ignore files that can bear on ``paths``: the root's (with
    ``.git/info/exclude`` before it) and those of the folders above each path, skipping
    folders already ignored (git never reads a .gitignore inside one)."""
    paths = list(paths)
    texts: dict[str, str] = {}
    root_text = "\n".join(
        text
        for text in (
            _read(workspace, f"{root}/.git/info/exclude"),
            _read(workspace, f"{root}/.gitignore"),
        )
        if text
    )
    if root_text:
        texts[""] = root_text
    folders = _folders_of(paths, root)[1 : MAX_FOLDERS + 1]
    rules = IgnoreRules(texts)
    for folder in folders:
        if rules.ignores(folder, is_dir=True):
            continue
        text = _read(workspace, f"{root}/{folder}/.gitignore")
        if text:
            texts[folder] = text
            rules = IgnoreRules(texts)
    return texts


def ignored_changes(workspace: _Readable, paths: Iterable[str], root: str = ROOT) -> list[str]:
    """Of the changed ``paths``, those the Changes view hides until asked (sorted)."""
    paths = list(paths)
    if not paths:
        return []
    try:
        texts = read_ignore_files(workspace, paths, root)
    except Exception:  # the rules are a courtesy: never a reason to show no changes
        log.warning("could not read the ignore files", exc_info=True)
        texts = {}
    return sorted(ignored_paths(paths, texts, root))
