"""One interactive bash per workspace, over the engine's exec attach socket.

Why a tty: the kernel's line discipline turns the byte ``\\x03`` into SIGINT for the
foreground process group, so C-c is instant and needs no extra exec, and bash's job control
gives every command its own process group to kill on a timeout.

The protocol: ``PS1``/``PS2`` are empty and ``PROMPT_COMMAND`` prints an end marker
``\\x1eE<nonce>:<exit code>:<cwd>\\x1f``. Each command goes out as one logical line,
``printf <start marker>; eval $'<command>'``, so a multi-line command yields one prompt.
Markers are printed with the nonce as a printf argument, so no echo of the input ever holds
a whole marker. A reader thread parses the stream as it comes; the caller's thread waits on
a condition and delivers live chunks to ``on_output``.
"""

from __future__ import annotations

import codecs
import contextlib
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import docker

from sandbox.clock import ActiveClock
from sandbox.errors import ShellBusyError, ShellDiedError
from sandbox.models import CommandResult
from sandbox.shell_protocol import command_line, key_bytes, partial_suffix
from sandbox.truncation import MiddleTruncator

OutputCallback = Callable[[str], None]

SHELL_ARGV = ["bash", "--noediting", "--noprofile", "--norc", "-i"]
SHELL_ENV = {"TERM": "dumb", "PAGER": "cat", "GIT_PAGER": "cat", "LESS": "-R"}

# Grace between SIGINT and SIGKILL of the foreground group, then before killing the shell.
SIGINT_GRACE = 0.5
SIGKILL_GRACE = 2.0
# A command younger than this gets its C-c only once it is this old (see _terminate).
SETTLE = 0.03
# How long a deferred C-c waits for its command to start before escalating anyway.
START_WAIT = 10.0

# Reads /proc/<shell>/stat (bash only: images need not have procps) and signals the tty's
# foreground process group, unless that group is the shell itself.
_KILL_FOREGROUND = r"""
p=$1; sig=$2
s=$(</proc/$p/stat) || exit 1
s=${s##*) }
set -- $s
t=$6
if [ "$t" -gt 1 ] && [ "$t" != "$p" ]; then kill -"$sig" -- -"$t"; else exit 3; fi
"""


class PersistentShell:
    """The workspace's bash. ``run()`` is for one thread at a time; ``interrupt()`` for any."""

    def __init__(
        self,
        api: docker.APIClient,
        container_id: str,
        *,
        clock: ActiveClock,
        workdir: str = "/workspace",
        environment: Mapping[str, str] | None = None,
        exec_gate: threading.RLock | None = None,
    ) -> None:
        self._api = api
        # Held while an exec is being started; freeze() takes it too, because the engine
        # wedges the container when a pause lands while an exec process is starting.
        self._exec_gate = exec_gate or threading.RLock()
        self._container_id = container_id
        self._clock = clock
        self._workdir = workdir
        self._environment = {**SHELL_ENV, **(environment or {})}
        self._nonce = secrets.token_hex(8)
        self._start = b"\x1eS" + self._nonce.encode() + b"\x1f"
        self._end = b"\x1eE" + self._nonce.encode() + b":"

        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._sock: Any = None
        self._raw: Any = None  # a socket, or the SDK's socket wrapper (npipe, ssh)
        self._reader: threading.Thread | None = None

        # Parser state, guarded by _cond.
        self._buf = bytearray()
        self._phase = "idle"  # idle | wait_start | running
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._carry_cr = False
        self._acc = MiddleTruncator()
        self._stray = MiddleTruncator(limit=4_000)
        self._live: list[str] = []
        self._live_on = False
        self._last_data = 0.0
        self._done: tuple[int, str] | None = None
        self._eof = False
        self._keep_stray = False  # once stty turned echo off, text between prompts is real

        self._seq = 0
        self._terminating = False
        self._pending_sigint = False
        self._started_at = 0.0
        self._interrupted = False
        self._timed_out = False
        self.killed_by_us = False
        self.pid: int | None = None
        self.cwd = workdir
        self.last_exit_code: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def open(self, timeout: float = 30.0) -> None:
        with self._exec_gate:
            self._open(timeout)

    def _open(self, timeout: float) -> None:
        exec_id = self._api.exec_create(
            self._container_id,
            SHELL_ARGV,
            stdin=True,
            tty=True,
            environment=self._environment,
            workdir=self._workdir,
        )["Id"]
        self._sock = self._api.exec_start(exec_id, socket=True, tty=True)
        self._raw = getattr(self._sock, "_sock", self._sock)
        self._reader = threading.Thread(
            target=self._read_loop, name="berth-shell-reader", daemon=True
        )
        self._reader.start()
        prompt = f'builtin printf "\\036E%s:%s:%s\\037" {self._nonce} "$?" "$PWD"'
        setup = (
            "stty -echo -onlcr cols 200 rows 50 2>/dev/null; __berth_e=$?; "
            f"PS1=''; PS2=''; PROMPT_COMMAND='{prompt}'; set +H; unset HISTFILE; "
            f'builtin printf \'\\036S%s\\037%s:%s\' {self._nonce} "$$" "$__berth_e"; '
            "unset __berth_e\n"
        )
        with self._cond:
            self._begin_command()
        try:
            self._send(setup.encode())
            result = self._wait(timeout=None, no_output_timeout=None, on_output=None, limit=timeout)
        except ShellDiedError as exc:
            raise ShellDiedError(
                f"bash did not start in the container ({exc}). Berth needs bash in the "
                "image (and /workspace)."
            ) from exc
        pid, _, tty_ok = result.output.strip().partition(":")
        if not pid.isdigit():
            raise ShellDiedError(f"The shell did not start as expected: {result.output[-300:]!r}")
        self.pid = int(pid)
        with self._cond:
            self._keep_stray = tty_ok == "0"
            self._stray = MiddleTruncator(limit=4_000)

    def close(self) -> None:
        """Hang up the shell (bash passes SIGHUP to its jobs) and drop the connection."""
        if self.pid is not None and not self._eof:
            with contextlib.suppress(Exception):
                self._exec(["bash", "-c", 'kill -HUP "$1"', "berth-hup", str(self.pid)])
        with contextlib.suppress(Exception):
            self._raw.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._sock.close()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    @property
    def alive(self) -> bool:
        return not self._eof

    @property
    def command_number(self) -> int:
        """Which command this is (one more for each command sent): tells two apart."""
        return self._seq

    @property
    def busy(self) -> bool:
        """True while a command runs (including one left running by a no-output timeout)."""
        return self._phase != "idle" and not self._eof

    # -- commands --------------------------------------------------------------------------

    def run(
        self,
        command: str,
        timeout: float | None = None,
        *,
        no_output_timeout: float | None = None,
        is_input: bool = False,
        on_output: OutputCallback | None = None,
    ) -> CommandResult:
        if not self._run_lock.acquire(blocking=False):
            raise ShellBusyError()
        try:
            with self._cond:
                if self._eof:
                    raise ShellDiedError(self._died_message())
                if is_input:
                    if self._phase == "idle":
                        return CommandResult(
                            output="[No command is running, so the input was not sent.]",
                            exit_code=self.last_exit_code,
                            cwd=self.cwd,
                        )
                    key = key_bytes(command)
                    if key == b"\x03":
                        self._interrupted = True
                        self._pending_sigint = True
                        if self._phase != "wait_start":  # else: sent when it starts
                            self._sigint_later(SETTLE - (time.monotonic() - self._started_at))
                        data = b""
                    elif key is not None:
                        data = key
                    elif command:
                        data = command.encode("utf-8", "surrogateescape")
                        data += b"" if data.endswith(b"\n") else b"\n"
                    else:
                        data = b""
                else:
                    if self._phase != "idle":
                        raise ShellBusyError()
                    self._begin_command()
                    data = command_line(command, self._nonce)
                # Live output is gathered from before the send: a fast command's first
                # lines may arrive before _wait() begins.
                self._live_on = on_output is not None
                self._live = []
            if data:
                self._send(data)
            return self._wait(timeout, no_output_timeout, on_output)
        finally:
            self._run_lock.release()

    def interrupt(self) -> None:
        """SIGINT to the running command at once; SIGKILL to its group if it lingers."""
        with self._cond:
            if self._phase == "idle" or self._eof:
                return
            self._interrupted = True
        self._terminate()

    # -- internals: sending, waiting, killing ----------------------------------------------

    def _begin_command(self) -> None:
        """Reset per-command state (caller holds _cond)."""
        self._seq += 1
        self._phase = "wait_start"
        self._done = None
        self._terminating = self._interrupted = self._timed_out = False
        self._pending_sigint = False
        self._decoder.reset()
        self._carry_cr = False
        self._acc = MiddleTruncator()
        if self._keep_stray and self._stray.total:
            self._acc.add(self._stray.text())
        self._stray = MiddleTruncator(limit=4_000)

    def _send(self, data: bytes) -> None:
        try:
            with self._send_lock:
                self._raw.sendall(data)
        except OSError as exc:
            with self._cond:
                self._eof = True
                self._cond.notify_all()
            raise ShellDiedError(self._died_message()) from exc

    def _wait(
        self,
        timeout: float | None,
        no_output_timeout: float | None,
        on_output: OutputCallback | None,
        limit: float | None = None,
    ) -> CommandResult:
        clock = self._clock
        begin = clock.now()
        kill_at = begin + timeout if timeout else None
        with self._cond:
            self._last_data = begin
            seq = self._seq
        try:
            while True:
                with self._cond:
                    if not (self._done or self._eof or self._live):
                        self._cond.wait(0.05)
                    live, self._live = self._live, []
                    done, eof, last_data = self._done, self._eof, self._last_data
                if on_output is not None:
                    for chunk in live:
                        on_output(chunk)
                if done is not None:
                    return self._finish(done)
                if eof:
                    if self._terminating or self.killed_by_us:
                        return self._finish_killed()
                    raise ShellDiedError(self._died_message())
                now = clock.now()
                if limit is not None and now - begin >= limit:
                    raise ShellDiedError("The shell did not answer in time.")
                if kill_at is not None and now >= kill_at and not self._terminating:
                    self._timed_out = True
                    self._terminate()
                if (
                    no_output_timeout is not None
                    and not self._terminating
                    and now - max(last_data, begin) >= no_output_timeout
                    and self._seq == seq
                ):
                    with self._cond:
                        output = self._take_output()
                    return CommandResult(
                        output=output.text(),
                        exit_code=None,
                        cwd=self.cwd,
                        still_running=True,
                        truncated=output.truncated,
                    )
        finally:
            with self._cond:
                self._live_on = False

    def _take_output(self) -> MiddleTruncator:
        output, self._acc = self._acc, MiddleTruncator()
        return output

    def _finish(self, done: tuple[int, str]) -> CommandResult:
        with self._cond:
            output = self._take_output()
            code, cwd = done
            self.cwd = cwd or self.cwd
            self.last_exit_code = code
            self._done = None
            interrupted = self._interrupted and not self._timed_out
            timed_out = self._timed_out
            self._terminating = False
        return CommandResult(
            output=output.text(),
            exit_code=code,
            cwd=self.cwd,
            timed_out=timed_out,
            interrupted=interrupted,
            truncated=output.truncated,
        )

    def _finish_killed(self) -> CommandResult:
        with self._cond:
            output = self._take_output()
        note = (
            "\n[The command ignored SIGINT and SIGKILL of its process group, so the shell "
            "was killed; the next command starts a fresh shell (cwd, variables and "
            "background jobs are reset).]"
        )
        return CommandResult(
            output=output.text() + note,
            exit_code=None,
            cwd=self.cwd,
            timed_out=self._timed_out,
            interrupted=self._interrupted and not self._timed_out,
            truncated=output.truncated,
        )

    def _terminate(self) -> None:
        with self._cond:
            if self._terminating or self._eof:
                return
            self._terminating = True
            seq = self._seq
            # Before bash has read the command line, C-c would reach bash at its prompt and
            # end nothing (or flush the line): send it the moment the command starts.
            self._pending_sigint = True
            if self._phase != "wait_start":
                # Just after a command starts, bash may still be between fork and handing
                # the terminal to the child: a C-c then hits bash alone and the child runs
                # on. Wait out that instant.
                self._sigint_later(SETTLE - (time.monotonic() - self._started_at))
        threading.Thread(
            target=self._escalate, args=(seq,), name="berth-shell-kill", daemon=True
        ).start()

    def _sigint_later(self, delay: float) -> None:
        """Send C-c after ``delay`` seconds (at once when not positive); caller holds _cond."""
        if delay <= 0:
            self._deliver_sigint()
            return
        timer = threading.Timer(delay, self._deliver_sigint)
        timer.daemon = True
        timer.start()

    def _deliver_sigint(self) -> None:
        with self._cond:
            if not self._pending_sigint:
                return
            self._pending_sigint = False
            self._cond.notify_all()
            if self._phase != "running":
                return
        with contextlib.suppress(OSError), self._send_lock:
            self._raw.sendall(b"\x03")

    def _ended(self, seq: int) -> bool:
        return self._eof or self._seq != seq or self._phase == "idle"

    def _wait_ended(self, seq: int, grace: float) -> bool:
        start = self._clock.now()
        with self._cond:
            while not self._ended(seq):
                if self._clock.now() - start >= grace:
                    return False
                self._cond.wait(0.05)
        return True

    def _escalate(self, seq: int) -> None:
        with self._cond:  # a deferred C-c: the grace starts once it went out
            start = self._clock.now()
            while self._pending_sigint and not self._ended(seq):
                if self._clock.now() - start >= START_WAIT:
                    break
                self._cond.wait(0.05)
        if self._wait_ended(seq, SIGINT_GRACE):
            return
        while self._clock.paused and not self._ended(seq):  # no exec into a frozen container
            threading.Event().wait(0.05)
        with contextlib.suppress(Exception):
            self._exec(["bash", "-c", _KILL_FOREGROUND, "berth-kill", str(self.pid), "KILL"])
        if self._wait_ended(seq, SIGKILL_GRACE):
            return
        # The foreground group is the shell itself (a builtin loop trapping SIGINT): only
        # killing the shell ends it.
        self.killed_by_us = True
        with contextlib.suppress(Exception):
            self._exec(["bash", "-c", 'kill -KILL "$1"', "berth-kill", str(self.pid)])

    def _exec(self, argv: list[str]) -> None:
        with self._exec_gate:
            exec_id = self._api.exec_create(self._container_id, argv)["Id"]
            self._api.exec_start(exec_id)

    def _died_message(self) -> str:
        tail = self._acc.text()[-500:]
        return (
            "The shell in the container ended"
            + (f"; its last output was:\n{tail}" if tail.strip() else ".")
            + " The next command starts a fresh shell."
        )

    # -- internals: the reader thread ------------------------------------------------------

    def _read_loop(self) -> None:
        recv = getattr(self._raw, "recv", None) or self._raw.read
        try:
            while True:
                data = recv(65536)
                if not data:
                    break
                with self._cond:
                    self._buf += data
                    self._parse()
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def _parse(self) -> None:
        buf = self._buf
        while buf:
            end = buf.find(self._end)
            close = buf.find(b"\x1f", end + len(self._end)) if end >= 0 else -1
            if self._phase == "running":
                if end < 0:
                    cut = len(buf) - partial_suffix(buf, self._end)
                    self._emit(bytes(buf[:cut]))
                    del buf[:cut]
                    return
                self._emit(bytes(buf[:end]))
                if close < 0:
                    del buf[:end]
                    return
                self._complete(bytes(buf[end + len(self._end) : close]))
                del buf[: close + 1]
                continue
            start = buf.find(self._start) if self._phase == "wait_start" else -1
            if start >= 0 and (end < 0 or start < end):
                del buf[: start + len(self._start)]  # before it: the echo of the input
                self._phase = "running"
                self._started_at = time.monotonic()
                if self._pending_sigint:
                    self._sigint_later(SETTLE)
                continue
            if end >= 0:
                if close < 0:
                    del buf[:end]
                    return
                # A prompt outside a command (C-c at an idle shell): neither output nor a
                # command's end.
                if self._phase == "idle":
                    self._add_stray(bytes(buf[:end]))
                del buf[: close + 1]
                continue
            keep = max(partial_suffix(buf, self._end), partial_suffix(buf, self._start))
            if self._phase == "idle":
                self._add_stray(bytes(buf[: len(buf) - keep]))
            del buf[: len(buf) - keep]
            return

    def _complete(self, body: bytes) -> None:
        code, _, cwd = body.decode("utf-8", "replace").partition(":")
        self._emit(b"", final=True)
        self._done = (int(code) if code.isdigit() else -1, cwd)
        self._phase = "idle"

    def _add_stray(self, data: bytes) -> None:
        if data:
            self._stray.add(data.decode("utf-8", "replace").replace("\r\n", "\n"))

    def _emit(self, data: bytes, final: bool = False) -> None:
        text = self._decoder.decode(data, final)
        if self._carry_cr:
            text = "\r" + text
            self._carry_cr = False
        if text.endswith("\r") and not final:
            text = text[:-1]
            self._carry_cr = True
        text = text.replace("\r\n", "\n")
        if not text:
            return
        self._acc.add(text)
        self._last_data = self._clock.now()
        if self._live_on:
            self._live.append(text)


__all__ = ["OutputCallback", "PersistentShell"]
