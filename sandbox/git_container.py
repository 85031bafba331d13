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
from sandbox.git_host import DEFAULT_IDENTITY, HANDBACK_REF, START_REF
from sandbox.labels import WORKDIR
from sandbox.pause_modes import Hold

if TYPE_CHECKING:
    from sandbox.workspace import DockerWorkspace

HANDBACK_BUNDLE = "/tmp/berth-handback.bundle"
WIP_MESSAGE = "Work in progress from Berth"
# Kept in the container repository's config: the copy is complete, and on which branch.
BRANCH_KEY = "berth.branch"

_HAS_GIT = "command -v git >/dev/null 2>&1"

# $1 branch, $2 bundle, $3 the host's HEAD at the start (or empty).
_SETUP = rf"""
set -eu
branch=$1 bundle=$2 base=$3
cd {WORKDIR}
rm -rf .git  # a copy cut short before it finished
git init -q
if ! git config user.email >/dev/null; then
    git config user.name '{DEFAULT_IDENTITY[0]}'
    git config user.email '{DEFAULT_IDENTITY[1]}'
fi
git fetch -q --no-tags "$bundle" '{START_REF}:{START_REF}'
if [ -n "$base" ]; then git update-ref refs/berth/base "$base"; fi
git checkout -q -f -b "$branch" '{START_REF}'
git config {BRANCH_KEY} "$branch"
rm -f "$bundle"
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
if [ -n "$prev" ] && ! git cat-file -e "$prev^{{commit}}" 2>/dev/null; then prev=; fi
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


def set_up(workspace: DockerWorkspace, branch: str, bundle: str, base: str | None) -> None:
    _checked(workspace, "Setting up the repository", _SETUP, branch, bundle, base or "")


def rename_branch(workspace: DockerWorkspace, branch: str) -> None:
    _checked(workspace, "Naming the branch", _RENAME, branch)


def hand_back_tip(
    workspace: DockerWorkspace, branch: str, prev: str | None, exclude: str | None
) -> str:
    """The commit to hand back (the agent's HEAD, plus its uncommitted work as a last
    commit), bundled at HANDBACK_BUNDLE."""
    args = (branch, prev or "", exclude or "")
    out = _checked(workspace, "Preparing the hand-back", _HANDBACK, *args)
    return out.strip().splitlines()[-1]


def patch(workspace: DockerWorkspace) -> str:
    return _checked(workspace, "Making the patch", _PATCH)
