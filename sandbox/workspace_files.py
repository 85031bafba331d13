"""DockerWorkspace's file methods: through the archive API (sandbox/files.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docker.models.containers import Container

from sandbox.engine import engine_errors
from sandbox.errors import NoSuchPathError, SandboxError
from sandbox.files import READ_LIMIT, ContainerFiles, Progress
from sandbox.models import FileEntry


class WorkspaceFiles:
    """Mixed into DockerWorkspace, which provides the container and ``_gone_or``."""

    _files: ContainerFiles | None

    @property
    def container(self) -> Container:
        raise NotImplementedError

    def _gone_or(self, error: SandboxError) -> SandboxError:
        raise NotImplementedError

    @property
    def files(self) -> ContainerFiles:
        if self._files is None:
            raise SandboxError("The workspace has not been started: call start() first.")
        return self._files

    def _file_call(self, action: Callable[[], Any]) -> Any:
        container = self.container
        try:
            with engine_errors(container.short_id):
                return action()
        except NoSuchPathError as exc:
            gone = self._gone_or(exc)
            if gone is exc:
                raise
            raise gone from exc

    def read_bytes(self, path: str, limit: int = READ_LIMIT) -> bytes:
        """FileTooLargeError, before reading, past ``limit`` bytes (a link's target's)."""
        return self._file_call(lambda: self.files.read_bytes(path, limit))

    def read_head(self, path: str, count: int) -> tuple[bytes, int]:
        """The first ``count`` bytes of a file and its full size."""
        return self._file_call(lambda: self.files.read_head(path, count))

    def write_bytes(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self._file_call(lambda: self.files.write_bytes(path, data, mode))

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding, "replace")

    def write_text(self, path: str, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(path, text.encode(encoding))

    def list_dir(self, path: str) -> list[FileEntry]:
        return self._file_call(lambda: self.files.list_dir(path))

    def stat(self, path: str) -> FileEntry | None:
        """The entry at ``path`` (a symlink itself, not followed), or None."""
        return self._file_call(lambda: self.files.stat(path))

    def exists(self, path: str) -> bool:
        return self._file_call(lambda: self.files.exists(path))

    def put_archive(self, container_dir: str, data: bytes) -> None:
        """Unpack a tar into ``container_dir``; entries landing outside it are refused."""
        self._file_call(lambda: self.files.put_archive(container_dir, data))

    def upload(
        self,
        host_path: str | os.PathLike[str],
        container_dir: str,
        progress: Progress | None = None,
    ) -> None:
        """Copy a host file or folder into ``container_dir`` (created if missing)."""
        self._file_call(lambda: self.files.upload(Path(host_path), container_dir, progress))

    def download(
        self,
        container_path: str,
        host_dir: str | os.PathLike[str],
        progress: Progress | None = None,
    ) -> Path:
        """Copy a container file or folder into ``host_dir``; returns the host path."""
        return self._file_call(
            lambda: self.files.download(container_path, Path(host_dir), progress)
        )
