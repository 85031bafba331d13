"""Cancelling a GitWorkspace's copy-in from another thread (the user's Stop while a big
repository is being copied): the host git running is killed, the archive stream being sent
raises on its next read, and the steps between check in."""

from __future__ import annotations

import subprocess
import threading
from typing import IO, Any

from sandbox.errors import StartCancelledError

CANCELLED_MESSAGE = "Copying the repository was cancelled: nothing was written to it."


class StartCancel:
    """One start's cancel switch; ``cancel()`` is safe from any thread, any time."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            running = list(self._procs)
        for proc in running:
            if proc.poll() is None:
                proc.kill()

    def check(self) -> None:
        """Between the steps: stop here once cancelled."""
        if self._event.is_set():
            raise StartCancelledError(CANCELLED_MESSAGE)

    def run(
        self, args: list[str], *, stdin_data: bytes | None = None, **popen: Any
    ) -> subprocess.CompletedProcess[bytes]:
        """subprocess.run that cancel() kills; StartCancelledError once it did."""
        with self._lock:
            self.check()
            proc = subprocess.Popen(args, stdin=subprocess.PIPE, **popen)
            self._procs.append(proc)
        try:
            out, err = proc.communicate(stdin_data)
        finally:
            with self._lock:
                self._procs.remove(proc)
        self.check()
        return subprocess.CompletedProcess(args, proc.returncode, out, err)

    def reader(self, file: IO[bytes], size: int) -> CancellableReader:
        return CancellableReader(file, size, self)


class CancellableReader:
    """A file for put_archive that raises StartCancelledError on the read after cancel():
    the upload is abandoned mid-stream, and nothing past that point is sent."""

    def __init__(self, file: IO[bytes], size: int, switch: StartCancel) -> None:
        self._file = file
        self._size = size
        self._switch = switch

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        self._switch.check()
        return self._file.read(size)

    def tell(self) -> int:
        return self._file.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)
