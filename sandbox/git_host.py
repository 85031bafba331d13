"""The host side of the repository door: reading the user's repository (never writing it)
and, on hand-back, fetching the agent's branch into it from a bundle.

Every git here runs with the host's hooks, fsmonitor and automatic gc off: Berth only reads
the repository until hand-back, and a hand-back is one fetch of one branch. The user's
uncommitted changes become a commit through a temporary index and a temporary object
folder (the repository's own objects reached as alternates), so neither the index nor
``.git/objects`` of the user is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel

from sandbox.errors import (
    BareRepositoryError,
    GitMissingError,
    GitWorkspaceError,
    HandBackRefusedError,
    NotAGitRepositoryError,
)

# What the container's branch is fetched as, from the bundle it makes (see git_container).
HANDBACK_REF = "refs/berth/handback"
START_REF = "refs/berth/start"
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
    objects: Path  # its object folder (the common one for a linked worktree)
    index: Path
    head: str | None  # None: no commit yet
    branch: str | None  # None: detached HEAD
    notices: list[str] = []


class StartPoint(BaseModel):
    """The commit the conversation starts from, and the host's HEAD it was made on."""

    start: str
    base: str | None
    bundle: Path


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
    paths = _out(git(root, "rev-parse", "--git-path", "objects", "--git-path", "index"))
    objects, index = (root / line for line in paths.splitlines())
    head = git(root, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
    branch = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False)
    repo = HostRepository(
        top=root,
        objects=objects.resolve(),
        index=index.resolve(),
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


def identity_env(repo: Path) -> dict[str, str]:
    """Berth as author and committer when the repository has no identity configured."""
    if git(repo, "var", "GIT_COMMITTER_IDENT", check=False).returncode == 0:
        return {}
    name, email = DEFAULT_IDENTITY
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def make_start_bundle(
    repo: HostRepository, scratch: Path, report: Callable[[str], None]
) -> StartPoint:
    """A bundle in ``scratch`` holding HEAD with its history, plus the uncommitted and
    untracked (not ignored) changes as one commit on top, as ``START_REF``."""
    objects = scratch / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    index = scratch / "index"
    env = {
        "GIT_OBJECT_DIRECTORY": str(objects),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(repo.objects),
        "GIT_INDEX_FILE": str(index),
    }
    if repo.head is not None and repo.index.is_file():
        # The user's index as it is: its stat data spares hashing every unchanged file.
        shutil.copyfile(repo.index, index)
    elif repo.head is not None:
        git(repo.top, "read-tree", repo.head, env=env)
    report("Reading your uncommitted changes…")
    git(repo.top, "add", "-A", env=env)
    tree = _out(git(repo.top, "write-tree", env=env))
    start = repo.head
    if start is None or tree != _out(git(repo.top, "rev-parse", f"{start}^{{tree}}", env=env)):
        parents: Sequence[str] = ("-p", repo.head) if repo.head else ()
        made = git(
            repo.top,
            "commit-tree", tree, *parents, "-m", UNCOMMITTED_MESSAGE,
            env={**env, **identity_env(repo.top)},
        )  # fmt: skip
        start = _out(made)
    report("Packing the repository's history…")
    bundle = scratch / "start.bundle"
    with bundle.open("wb") as out:
        # A bundle is a header and a pack: made by hand so that no ref is written anywhere.
        out.write(f"# v2 git bundle\n{start} {START_REF}\n\n".encode())
        out.flush()
        packed = subprocess.run(
            ["git", *_SAFE, "pack-objects", "--stdout", "--revs", "--delta-base-offset", "-q"],
            cwd=repo.top,
            env={**_clean_env(), **env},
            input=f"{start}\n".encode(),
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )  # fmt: skip
    if packed.returncode != 0:
        raise GitWorkspaceError(f"Packing {repo.top} failed: {_said(packed)}")
    return StartPoint(start=start, base=repo.head, bundle=bundle)


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
        "fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "-q",
        str(bundle), f"{HANDBACK_REF}:refs/heads/{branch}",
        check=False,
    )  # fmt: skip
    if done.returncode == 0:
        return
    said = _said(done)
    if "non-fast-forward" in said or "rejected" in said:
        raise HandBackRefusedError(
            f"The branch {branch} in {repo} has moved since Berth last handed work back (it "
            "is no longer part of the agent's history), so Berth did not overwrite it. Rename "
            f"yours (git branch -m {branch} {branch}-mine) and hand back again."
        )
    if "checked out" in said:
        raise HandBackRefusedError(
            f"The branch {branch} is checked out in {repo}: updating it would change files "
            f"under you. Switch to another branch (git switch -) and hand back again."
        )
    raise GitWorkspaceError(f"Handing back into {repo} failed: {said}")
