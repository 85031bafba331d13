"""The container side of the repository door: git commands run in the agent's container.

Each runs as its own exec (never in the agent's shell, which may be busy), under the
workspace's exec gate. A frozen container (the user's Pause) cannot start an exec, so it
is thawed for the few git commands and frozen again, as stillness.end_processes does; one
held by signals needs no thaw. Uncommitted work is read through a temporary index, so the
agent's index, branch and files stay as they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.engine import engine_errors
from sandbox.errors import GitMissingError, GitWorkspaceError
from sandbox.git_host import (
    BASE_REF,
    DEFAULT_IDENTITY,
    HANDBACK_REF,
    START_NAME,
    START_REF,
    UNCOMMITTED_MESSAGE,
    moved_error,
)
from sandbox.labels import WORKDIR
from sandbox.pause_modes import Hold

if TYPE_CHECKING:
    from sandbox.workspace import DockerWorkspace

HANDBACK_BUNDLE = "/tmp/berth-handback.bundle"
WIP_MESSAGE = "Work in progress from Berth"
# Kept in the container repository's config: the copy is complete, and on which branch.
BRANCH_KEY = "berth.branch"

MOVED = 3  # _HANDBACK's exit code when the host's branch moved
_HAS_GIT = "command -v git >/dev/null 2>&1"

# $1 branch, $2 the host's HEAD at the start (or empty), $3 $4 the user's name and email.
# /tmp/START_NAME holds what git_host.make_start_archive packed.
_SETUP = rf"""
set -eu
branch=$1 base=$2 name=$3 email=$4 src=/tmp/{START_NAME}
cd {WORKDIR}
if [ -e .git ]; then
    # A copy cut short before it finished (no [berth] marker yet): its half checkout
    # would otherwise land in "Your uncommitted changes".
    find . -mindepth 1 -maxdepth 1 -exec rm -rf {{}} +
fi
git init -q
if ! git config user.email >/dev/null; then
    git config user.name '{DEFAULT_IDENTITY[0]}'
    git config user.email '{DEFAULT_IDENTITY[1]}'
fi
if [ -n "$base" ]; then
    git fetch -q --no-tags "$src/base.bundle" '{BASE_REF}:{BASE_REF}'
    git checkout -q -f -b "$branch" '{BASE_REF}'
else
    git symbolic-ref HEAD "refs/heads/$branch"
fi
xargs -0 -r rm -rf -- < "$src/deleted"
if [ -d "$src/changes" ]; then cp -a "$src/changes/." .; fi
git add -A
if [ -s "$src/present" ]; then
    git add -f --pathspec-from-file="$src/present" --pathspec-file-nul
fi
if [ -z "$base" ] || ! git diff --cached --quiet; then
    GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email GIT_COMMITTER_NAME=$name \
        GIT_COMMITTER_EMAIL=$email git commit -q --no-verify --allow-empty \
        -m '{UNCOMMITTED_MESSAGE}'
fi
git update-ref '{START_REF}' HEAD
git config {BRANCH_KEY} "$branch"
rm -rf "$src"
"""

# $1 the branch it should be on: a fork's copy still carries its original's name.
_RENAME = rf"""
set -eu
cd {WORKDIR}
old=$(git config --get {BRANCH_KEY} || true)
[ -n "$old" ] && [ "$old" != "$1" ] || exit 0
if git show-ref -q --verify "refs/heads/$old"; then git branch -m "$old" "$1"; fi
git config {BRANCH_KEY} "$1"
"""

# The worktree as a tree, through a temporary index (the agent's index stays as it is).
_WORKTREE_TREE = r"""
idx=$(mktemp)
trap 'rm -f "$idx"' EXIT
if [ -f .git/index ]; then cp .git/index "$idx"; else rm -f "$idx"; fi
export GIT_INDEX_FILE=$idx
git add -A
tree=$(git write-tree)
"""

# $1 branch, $2 the host's tip of it (or empty), $3 a commit the host has (or empty).
# Prints the commit handed back; the bundle holds it as HANDBACK_REF.
_HANDBACK = rf"""
set -eu
branch=$1 prev=$2 exclude=$3
cd {WORKDIR}
{_WORKTREE_TREE}
head=$(git rev-parse -q --verify 'HEAD^{{commit}}' || true)
if [ -n "$prev" ] && ! git cat-file -e "$prev^{{commit}}" 2>/dev/null; then
    exit {MOVED}  # the host's branch holds a commit the agent never saw: no fast-forward
fi
tip=$head parents= need=0
if [ -n "$head" ]; then
    parents="-p $head"
    [ "$tree" = "$(git rev-parse "$head^{{tree}}")" ] || need=1
else
    need=1
fi
if [ -n "$prev" ] && ! {{ [ -n "$head" ] && git merge-base --is-ancestor "$prev" "$head"; }}; then
    # The last hand-back's work-in-progress commit is not in the agent's history: nothing
    # new since (hand it back as it was), or join it, so the branch moves forward.
    if [ "$tree" = "$(git rev-parse "$prev^{{tree}}")" ] \
        && {{ [ -z "$head" ] || git merge-base --is-ancestor "$head" "$prev"; }}; then
        tip=$prev need=0
    else
        parents="$parents -p $prev" need=1
    fi
fi
if [ $need = 1 ]; then
    tip=$(git commit-tree "$tree" $parents -m '{WIP_MESSAGE}')
fi
git update-ref "refs/berth/handed/$branch" "$tip"
git update-ref '{HANDBACK_REF}' "$tip"
if [ -n "$exclude" ] && [ "$exclude" != "$tip" ] && git cat-file -e "$exclude^{{commit}}"; then
    git bundle create -q {HANDBACK_BUNDLE} '{HANDBACK_REF}' "^$exclude"
else
    git bundle create -q {HANDBACK_BUNDLE} '{HANDBACK_REF}'
fi
echo "$tip"
"""

_PATCH = rf"""
set -eu
cd {WORKDIR}
{_WORKTREE_TREE}
git -c core.quotePath=false diff --cached --binary --no-color --no-ext-diff '{START_REF}'
"""


def run_script(workspace: DockerWorkspace, script: str, *args: str) -> tuple[int, bytes, bytes]:
    """Run a bash script in the container (thawing a frozen one meanwhile); exit code,
    stdout, stderr."""
    api = workspace.client.api
    container_id = str(workspace.container.id)
    with workspace._exec_gate:
        refreeze = workspace.hold is Hold.FROZEN
        if refreeze:
            workspace.thaw()
        try:
            with engine_errors(container_id[:12]):
                made = api.exec_create(
                    container_id, ["bash", "-c", script, "berth-git", *args], workdir="/"
                )
                out, err = api.exec_start(made["Id"], demux=True)
                code = api.exec_inspect(made["Id"]).get("ExitCode")
        finally:
            if refreeze:
                workspace.suspend()
    return (code if code is not None else -1), out or b"", err or b""


def _checked(workspace: DockerWorkspace, what: str, script: str, *args: str) -> str:
    code, out, err = run_script(workspace, script, *args)
    if code != 0:
        said = err.decode(errors="replace").strip() or out.decode(errors="replace").strip()
        raise GitWorkspaceError(f"{what} failed in the container: {said or f'exit {code}'}")
    return out.decode(errors="replace")


def require_git(workspace: DockerWorkspace) -> None:
    code, _out, _err = run_script(workspace, _HAS_GIT)
    if code != 0:
        raise GitMissingError(
            f"git is not installed in the image {workspace.image!r}, so the repository cannot "
            "be copied into the container. Use Berth's own image (leave the image unset), "
            "or an image that has git (for example one built FROM it, or with "
            "`apt-get install git`)."
        )


def set_up(
    workspace: DockerWorkspace, branch: str, base: str | None, identity: tuple[str, str]
) -> None:
    """The repository at /workspace from what the start archive put in /tmp."""
    _checked(workspace, "Setting up the repository", _SETUP, branch, base or "", *identity)


def clear_start_dir(workspace: DockerWorkspace) -> None:
    """/tmp/START_NAME emptied, for what a cancelled copy left there."""
    _checked(workspace, "Clearing the last copy", f"rm -rf /tmp/{START_NAME}")


def rename_branch(workspace: DockerWorkspace, branch: str) -> None:
    _checked(workspace, "Naming the branch", _RENAME, branch)


def hand_back_tip(
    workspace: DockerWorkspace, branch: str, prev: str | None, exclude: str | None
) -> str:
    """The commit to hand back (the agent's HEAD, plus its uncommitted work as a last
    commit), bundled at HANDBACK_BUNDLE."""
    code, out, err = run_script(workspace, _HANDBACK, branch, prev or "", exclude or "")
    if code == MOVED:
        raise moved_error(branch)
    if code != 0:
        said = err.decode(errors="replace").strip() or f"exit {code}"
        raise GitWorkspaceError(f"Preparing the hand-back failed in the container: {said}")
    return out.decode(errors="replace").strip().splitlines()[-1]


def patch(workspace: DockerWorkspace) -> str:
    return _checked(workspace, "Making the patch", _PATCH)
