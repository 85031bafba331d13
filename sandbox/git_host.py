"""The host side of the repository door: reading the user's repository (never writing it)
and, on hand-back, fetching the agent's branch into it from a bundle.

Every git here runs with the host's hooks, fsmonitor and automatic gc off: Berth only reads
the repository until hand-back, and a hand-back is one fetch of one branch. Nothing is
committed on the host at the start (git writing an object it already has touches that
object's file, a "freshen"): the host packs HEAD's history and tars the changed files, and
the container makes the commit of the user's uncommitted changes.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from sandbox.errors import (
    BareRepositoryError,
    GitMissingError,
    GitWorkspaceError,
    HandBackRefusedError,
    NotAGitRepositoryError,
)
from sandbox.start_cancel import StartCancel

# What the container's branch is fetched as, from the bundle it makes (see git_container).
HANDBACK_REF = "refs/berth/handback"
START_REF = "refs/berth/start"
BASE_REF = "refs/berth/base"
START_NAME = "berth-start"  # the folder in the container's /tmp the start archive fills
UNCOMMITTED_MESSAGE = "Your uncommitted changes"
DEFAULT_IDENTITY = ("Berth", "berth@localhost")
_SAFE = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "gc.auto=0",
    "-c", "maintenance.auto=false",
)  # fmt: skip


class HostRepository(BaseModel):
    """What start() needs of the user's repository."""

    top: Path  # the working tree's root
    head: str | None  # None: no commit yet
    branch: str | None  # None: detached HEAD
    notices: list[str] = []


class StartPoint(BaseModel):
    """What start() sends into the container: a tar of the history bundle and the user's
    uncommitted files, and the host's HEAD it was made on."""

    archive: Path
    base: str | None
    size: int  # bytes of the tar


def _clean_env() -> dict[str, str]:
    # The caller's GIT_DIR or GIT_INDEX_FILE (a git hook running Berth) must not redirect us.
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def git(
    cwd: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """The host's git, safely configured; GitWorkspaceError with git's words on failure."""
    if shutil.which("git") is None:
        raise GitMissingError(
            "git is not installed on this computer; Berth needs it to read the repository "
            "and to hand the work back (install git and try again)."
        )
    done = subprocess.run(
        ["git", *_SAFE, *args],
        cwd=cwd,
        env={**_clean_env(), **(env or {})},
        input=stdin,
        capture_output=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise GitWorkspaceError(f"git {args[0]} failed in {cwd}: {_said(done)}")
    return done


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    return (done.stderr or done.stdout).decode(errors="replace").strip() or "no message"


def _out(done: subprocess.CompletedProcess[bytes]) -> str:
    return done.stdout.decode(errors="replace").strip()


def inspect_repository(path: str | os.PathLike[str]) -> HostRepository:
    """The repository at ``path`` (or the one it is inside), or a clear error."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise NotAGitRepositoryError(f"{folder} is not a folder, so not a git repository.")
    folder = folder.resolve()
    bare = git(folder, "rev-parse", "--is-bare-repository", check=False)
    if bare.returncode != 0:
        raise NotAGitRepositoryError(
            f"{folder} is not a git repository (git init makes one; or choose the folder "
            "that holds your project's .git)."
        )
    if _out(bare) == "true":
        raise BareRepositoryError(
            f"{folder} is a bare repository: it has no working tree to copy. Choose a "
            "clone of it instead (git clone it somewhere, then use that folder)."
        )
    top = git(folder, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0:
        raise NotAGitRepositoryError(
            f"{folder} is inside a repository's .git folder, not its working tree."
        )
    root = Path(_out(top))
    head = git(root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
    branch = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False)
    repo = HostRepository(
        top=root,
        head=_out(head) if head.returncode == 0 else None,
        branch=_out(branch) if branch.returncode == 0 else None,
    )
    repo.notices.extend(_notices(repo))
    return repo


def _notices(repo: HostRepository) -> list[str]:
    notices = []
    if repo.branch is None and repo.head is not None:
        notices.append(
            f"{repo.top} has a detached HEAD (at {repo.head[:10]}): the conversation works "
            "from that commit."
        )
    staged = _out(git(repo.top, "ls-files", "--stage"))
    if (repo.top / ".gitmodules").exists() or any(
        line.startswith("160000 ") for line in staged.splitlines()
    ):
        notices.append(
            f"{repo.top} has submodules: they are copied as they are (the commit each points "
            "at), not their files."
        )
    attributes = repo.top / ".gitattributes"
    if attributes.is_file() and "filter=lfs" in attributes.read_text(errors="replace"):
        notices.append(
            f"{repo.top} uses Git LFS: its large files are copied as they are in the "
            "working tree (pointers where LFS did not fetch them); the container does not "
            "fetch LFS content."
        )
    return notices


def identity(repo: Path) -> tuple[str, str]:
    """The user's name and email as the repository's config says, else Berth's."""
    name = git(repo, "config", "--get", "user.name", check=False)
    email = git(repo, "config", "--get", "user.email", check=False)
    if name.returncode or email.returncode:
        return DEFAULT_IDENTITY
    return _out(name), _out(email)


def _nul_list(done: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [p for p in done.stdout.decode(errors="surrogateescape").split("\0") if p]


def _uncommitted(repo: HostRepository) -> list[str]:
    """Paths whose working-tree state differs from HEAD, and untracked (not ignored) ones.
    Read without the index lock, so the user's index is never refreshed or written."""
    top = repo.top
    if repo.head is not None:
        changed = git(top, "--no-optional-locks", "diff", "HEAD", "--name-only", "-z",
                      "--no-renames", "--ignore-submodules=all")  # fmt: skip
    else:
        changed = git(top, "--no-optional-locks", "ls-files", "-z")
    untracked = git(top, "--no-optional-locks", "ls-files", "--others", "--exclude-standard", "-z")
    return sorted(set(_nul_list(changed)) | set(_nul_list(untracked)))


def make_start_archive(
    repo: HostRepository,
    scratch: Path,
    report: Callable[[str], None],
    switch: StartCancel | None = None,
) -> StartPoint:
    """A tar in ``scratch`` for /tmp in the container (START_DIR): HEAD with its history as
    a bundle (``base.bundle``, ref BASE_REF), the uncommitted and untracked files as they
    are in the working tree (``changes/``), and the lists ``present`` and ``deleted``
    (NUL-separated). The container makes the "Your uncommitted changes" commit: git on the
    host would freshen (touch) the repository's objects when writing ones it already has.
    ``switch.cancel()`` stops it promptly (StartCancelledError); only ``scratch`` is written."""
    switch = switch or StartCancel()
    archive = scratch / "start.tar"
    paths = _uncommitted(repo)
    present = [p for p in paths if os.path.lexists(repo.top / p) and not _is_dir(repo.top / p)]
    deleted = [p for p in paths if not os.path.lexists(repo.top / p)]
    with tarfile.open(archive, "w") as tar:
        if repo.head is not None:
            report("Packing the repository's history…")
            bundle = scratch / "base.bundle"
            _bundle_head(repo, bundle, switch)
            tar.add(str(bundle), arcname=f"{START_NAME}/base.bundle")
        report(f"Reading your uncommitted changes ({len(paths)} files)…")
        for path in present:
            switch.check()
            tar.add(str(repo.top / path), arcname=f"{START_NAME}/changes/{path}", recursive=False,
                    filter=_as_root)  # fmt: skip
        for name, listed in (("present", present), ("deleted", deleted)):
            data = "".join(f"{p}\0" for p in listed).encode(errors="surrogateescape")
            info = tarfile.TarInfo(f"{START_NAME}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return StartPoint(archive=archive, base=repo.head, size=archive.stat().st_size)


def _is_dir(path: Path) -> bool:
    # A submodule's (or a nested repository's) folder: git records its commit, not files.
    return path.is_dir() and not path.is_symlink()


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode &= 0o777
    return info


def _bundle_head(repo: HostRepository, bundle: Path, switch: StartCancel) -> None:
    assert repo.head is not None
    with bundle.open("wb") as out:
        # A bundle is a header and a pack: made by hand so that no ref is written anywhere
        # (pack-objects only reads).
        out.write(f"# v2 git bundle\n{repo.head} {BASE_REF}\n\n".encode())
        out.flush()
        # Killed by switch.cancel(): the slow part of a big repository's start.
        packed = switch.run(
            ["git", *_SAFE, "pack-objects", "--stdout", "--revs", "--delta-base-offset", "-q"],
            stdin_data=f"{repo.head}\n".encode(),
            cwd=repo.top,
            env=_clean_env(),
            stdout=out,
            stderr=subprocess.PIPE,
        )
    if packed.returncode != 0:
        raise GitWorkspaceError(f"Packing {repo.top} failed: {_said(packed)}")


def has_commit(repo: Path, sha: str | None) -> bool:
    if not sha:
        return False
    return git(repo, "cat-file", "-e", f"{sha}^{{commit}}", check=False).returncode == 0


def branch_tip(repo: Path, branch: str) -> str | None:
    done = git(repo, "rev-parse", "-q", "--verify", f"refs/heads/{branch}^{{commit}}", check=False)
    return _out(done) if done.returncode == 0 else None


def check_branch_name(branch: str) -> None:
    done = subprocess.run(
        ["git", "check-ref-format", f"refs/heads/{branch}"], capture_output=True, check=False
    )
    if done.returncode != 0 or not branch:
        raise GitWorkspaceError(f"{branch!r} cannot be a git branch name.")


def fetch_handback(repo: Path, bundle: Path, branch: str) -> None:
    """The bundle's branch into ``refs/heads/<branch>``: new, or a fast-forward of it; the
    working tree, index and current branch stay as they are."""
    done = git(
        repo,
        "fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
        str(bundle), f"{HANDBACK_REF}:refs/heads/{branch}",
        check=False,
    )  # fmt: skip
    if done.returncode == 0:
        return
    said = _said(done)
    if "non-fast-forward" in said or "rejected" in said:
        raise moved_error(branch)
    if "checked out" in said:
        raise checked_out_error(repo, branch)
    raise GitWorkspaceError(f"Handing back into {repo} failed: {said}")


def check_not_checked_out(repo: Path, branch: str) -> None:
    """Before anything is fetched: updating a branch checked out in one of the repository's
    worktrees would change files under the user, so git refuses; say it first."""
    listed = _out(git(repo, "worktree", "list", "--porcelain"))
    if f"branch refs/heads/{branch}" in listed.splitlines():
        raise checked_out_error(repo, branch)


def checked_out_error(repo: Path, branch: str) -> HandBackRefusedError:
    return HandBackRefusedError(
        f"The branch {branch} is checked out in {repo}: updating it would change files "
        "under you. Switch to another branch (git switch -) and hand back again."
    )


def moved_error(branch: str) -> HandBackRefusedError:
    return HandBackRefusedError(
        f"The branch {branch} in your repository has moved since Berth last handed work back "
        "(it holds commits that are not part of the agent's work), so Berth did not "
        f"overwrite it. Rename yours (git branch -m {branch} {branch}-mine) and hand back "
        "again."
    )
