"""GitWorkspace: a DockerWorkspace working on a copy of a host git repository.

On the first start of a fresh volume, the host repository's HEAD with its history, plus
the user's uncommitted and untracked (not ignored) changes as a first commit, goes into
/workspace through the archive API (so a remote engine works as well; the host repository
is never mounted), on a branch ``berth/<conversation-id-prefix>``. ``hand_back()`` fetches
the agent's work into the host repository as that branch; ``patch()`` is the whole change
as a diff. Host side: sandbox/git_host.py; container side: sandbox/git_container.py.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import IO, Any, cast

from sandbox import git_container, git_host
from sandbox.errors import GitWorkspaceError
from sandbox.labels import WORKDIR
from sandbox.start_cancel import StartCancel
from sandbox.workspace import DockerWorkspace

log = logging.getLogger(__name__)

BRANCH_PREFIX = "berth/"


class GitWorkspace(DockerWorkspace):
    """A container whose /workspace is a copy of the git repository at ``repo``."""

    def __init__(
        self,
        image: str | None = None,
        *,
        repo: str | os.PathLike[str],
        branch: str | None = None,
        **options: Any,
    ) -> None:
        if options.get("host_dir") is not None:
            raise GitWorkspaceError(
                "A GitWorkspace copies the repository into its own volume: host_dir cannot "
                "be given with repo."
            )
        if branch is not None:
            git_host.check_branch_name(branch)
        # Checked now, before any container: a wrong folder is said at once.
        self._repo = git_host.inspect_repository(repo)
        self.repo = self._repo.top
        self._branch = branch
        self._switch = StartCancel()
        # Said once each, for the agent layer to show (submodules, LFS, a detached HEAD).
        self.notices: list[str] = list(self._repo.notices)
        for notice in self.notices:
            log.warning("%s", notice)
        super().__init__(image, **options)

    @property
    def branch(self) -> str:
        """The branch the work is handed back as: ``branch``, else berth/<id prefix>."""
        if self._branch is not None:
            return self._branch
        if self.conversation_id is None:
            raise GitWorkspaceError("The branch is named after the conversation: start() first.")
        return f"{BRANCH_PREFIX}{self.conversation_id[:8]}"

    def __repr__(self) -> str:
        return f"GitWorkspace(repo={str(self.repo)!r}, image={self.image!r})"

    def cancel_start(self) -> None:
        """Stop a start() copying the repository in (safe from any thread): start() raises
        StartCancelledError, nothing is written to the host repository, and the next
        start() copies afresh. A cancel before start() holds for the start to come."""
        self._switch.cancel()

    def start(self) -> None:
        try:
            super().start()
            try:
                if not self._copied():
                    self._copy_in()
                elif not self.frozen:
                    git_container.rename_branch(self, self.branch)
            except BaseException:
                # The container must not run on unowned when its start failed.
                self.close()
                raise
        finally:
            # Renewed after, not before: a cancel that came as this start was being set
            # up (the user's Stop) holds for it; it never holds for the next one.
            self._switch = StartCancel()

    def _copied(self) -> bool:
        # Read through the archive API: a container reattached frozen answers it too.
        if not self.exists(f"{WORKDIR}/.git/config"):
            return False
        config = self.read_bytes(f"{WORKDIR}/.git/config").decode(errors="replace")
        return "[berth]" in config

    def _copy_in(self) -> None:
        report = self.on_progress or (lambda _line: None)
        switch = self._switch
        git_container.require_git(self)
        with tempfile.TemporaryDirectory(prefix="berth-git-") as scratch:
            point = git_host.make_start_archive(self._repo, Path(scratch), report, switch)
            switch.check()
            report(f"Copying {self.repo.name} into the container ({point.size / 1e6:.1f} MB)…")
            # What a cancelled copy left in /tmp must not mix into this one.
            git_container.clear_start_dir(self)
            with point.archive.open("rb") as archive:
                # Streamed from the file: a big repository's history never sits in memory.
                # The reader raises on cancel(): the upload stops mid-stream.
                # It reads, tells and seeks like the file it wraps, all put_archive uses.
                reader = cast(IO[bytes], switch.reader(archive, point.size))
                try:
                    self._file_call(lambda: self.files.put_archive("/tmp", reader))
                except Exception:
                    switch.check()  # the cancel, said as such, not as the broken stream
                    raise
        switch.check()
        report("Checking out the files…")
        identity = git_host.identity(self.repo)
        git_container.set_up(self, self.branch, point.base, identity)
        report(f"Working on a copy of {self.repo} on branch {self.branch}")

    def hand_back(self) -> str:
        """The agent's commits, plus its uncommitted work as a last commit "Work in progress
        from Berth", into the host repository as ``self.branch`` (new, or fast-forwarded);
        the host's working tree, index and current branch stay as they are. Works while
        paused. Returns the branch name. HandBackRefusedError when the user moved it."""
        repo = self.repo
        branch = self.branch
        git_host.check_not_checked_out(repo, branch)
        prev = git_host.branch_tip(repo, branch)
        base = self._repo.head
        exclude = base if git_host.has_commit(repo, base) else None
        git_container.hand_back_tip(self, branch, prev, exclude)
        with tempfile.TemporaryDirectory(prefix="berth-handback-") as scratch:
            bundle = self.download(git_container.HANDBACK_BUNDLE, scratch)
            git_host.fetch_handback(repo, bundle, branch)
        return branch

    def patch(self) -> str:
        """The whole change since the start (commits and uncommitted work) as a unified
        diff, for ``git apply`` on the repository as it was. Works while paused."""
        return git_container.patch(self)
