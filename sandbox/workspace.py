"""DockerWorkspace: one hardened container, its persistent shell and its files."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import docker
import docker.errors
from docker.models.containers import Container

from sandbox import container_spec, labels, liveness, oom, pause_modes, removal
from sandbox.attached_process import AttachedProcesses
from sandbox.brief_freeze import BriefFreeze
from sandbox.clock import ActiveClock
from sandbox.disk_limit import DEFAULT_LIMIT, DiskGuard, layer_size, parse_size, workspace_size
from sandbox.engine import connect, engine_errors
from sandbox.errors import (
    FreezeFailedError,
    ImageMissingError,
    SandboxError,
    ShellDiedError,
)
from sandbox.files import ContainerFiles
from sandbox.images.berth_image import ensure_image, offline_hint, resolve_image
from sandbox.models import CommandResult
from sandbox.network_door.policy import Network
from sandbox.network_door.secret import Secret, SecretSet
from sandbox.network_door.workspace_door import NetworkDoor
from sandbox.pause_modes import Hold, PauseMode, PauseOutcome
from sandbox.shell import OutputCallback, PersistentShell
from sandbox.warden import Warden
from sandbox.workspace_files import WorkspaceFiles

log = logging.getLogger(__name__)

MAIN_PROCESS = container_spec.MAIN_PROCESS
SHELL_START_TRIES = 3
# Signs in a command's output that the pids limit is full (bash's and glibc's words).
_NO_PROCESSES = ("fork: retry: Resource temporarily unavailable",
                 "fork: Resource temporarily unavailable",
                 "Cannot fork")  # fmt: skip
# After Stop, how long SIGINT and the shell's SIGKILL get before the warden steps in.
STOP_FALLBACK_S = 3.0


class DockerWorkspace(WorkspaceFiles, NetworkDoor, AttachedProcesses):
    """A container for one conversation: created or found again by label on ``start()``."""

    def __init__(
        self,
        image: str | None = None,
        *,
        host_dir: str | os.PathLike[str] | None = None,
        volume: str | None = None,
        conversation_id: str | None = None,
        network: Network = True,
        secrets: Sequence[Secret] = (),
        memory: str = "2g",
        cpus: float = 2.0,
        pids_limit: int = 512,
        environment: Mapping[str, str] | None = None,
        client: docker.DockerClient | None = None,
        on_progress: Callable[[str], None] | None = None,
        pause_mode: PauseMode | str = PauseMode.AUTO,
        disk_limit: str | int | None = DEFAULT_LIMIT,
    ) -> None:
        self.image = resolve_image(image)
        self.host_dir = Path(host_dir).resolve() if host_dir is not None else None
        self._volume = volume
        self.conversation_id = conversation_id
        self.network = network
        self._secrets = SecretSet(secrets, network)  # values for the proxy alone
        self.memory = memory
        self.cpus = cpus
        self.pids_limit = pids_limit
        self.environment = dict(environment or {})
        self.on_progress = on_progress
        self.pause_mode = PauseMode(pause_mode)
        # writable layer + /workspace, in bytes (None: unlimited); see sandbox/disk_limit.py
        self._disk = DiskGuard(
            parse_size(disk_limit) if disk_limit is not None else None,
            (self._layer_size, self._workspace_size),
            self.interrupt,
        )
        self._client = client
        self._container: Container | None = None
        self._files: ContainerFiles | None = None
        self._shell: PersistentShell | None = None
        self._shell_lock = threading.Lock()
        self._clock = ActiveClock()
        self._lifecycle = threading.Lock()
        # No pause while an exec starts (the engine wedges the container): see freeze().
        self._exec_gate = threading.RLock()
        self.hold = Hold.NONE  # what holds the processes still (see suspend())
        self.brief_freeze = BriefFreeze(self._exec_gate, self._clock)  # a checkpoint's
        self._command_started = time.time()  # for naming an OOM kill (sandbox/oom.py)
        self._oom_checked = 0.0
        self._warden: Warden | None = None
        self._created_fresh = False  # start() made this container (no old shells in it)
        self._stale_checked = False

    # -- identity --------------------------------------------------------------------------

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect()
        return self._client

    @property
    def container(self) -> Container:
        if self._container is None:
            raise SandboxError("The workspace has not been started: call start() first.")
        return self._container

    @property
    def short_id(self) -> str:
        return self.container.short_id

    @property
    def volume(self) -> str | None:
        """The named volume at /workspace (None when a host folder is mounted there)."""
        if self.host_dir is not None:
            return None
        if self._volume:
            return self._volume
        return labels.volume_name(self.conversation_id) if self.conversation_id else None

    @property
    def frozen(self) -> bool:
        """True while the engine holds the container frozen (exec cannot start then)."""
        return self.hold is Hold.FROZEN

    @property
    def started(self) -> bool:
        return self._container is not None

    @property
    def busy(self) -> bool:
        """True while a command runs in the shell (also after a no-output timeout)."""
        shell = self._shell
        return shell is not None and shell.busy

    def __repr__(self) -> str:
        ident = self._container.short_id if self._container is not None else "not started"
        return f"DockerWorkspace(image={self.image!r}, container={ident})"

    def __enter__(self) -> DockerWorkspace:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Reattach to this conversation's container (starting it if it exited), else create
        one. Idempotent."""
        with self._lifecycle:
            client = connect(self._client)
            self._client = client
            if self._container is not None:
                try:
                    with engine_errors():
                        self._container.reload()
                except docker.errors.NotFound:
                    self._container = None  # removed under us: find or make another below
                else:
                    if self._container.status in ("running", "paused"):
                        return
            if self.conversation_id is None:
                self.conversation_id = uuid.uuid4().hex[:12]
            with engine_errors():
                found = self._find()
                container = found or self._create()
                self._created_fresh = found is None
                if container.status == "paused":
                    self._set_hold(Hold.FROZEN)
                elif container.status != "running":
                    self._start_container(container)
            self._container = container
            self._open_door()
            self._files = ContainerFiles(
                client.api,
                str(container.id),
                frozen=lambda: self.frozen,
                exec_gate=self._exec_gate,
                owner=container_spec.container_owner(container),
            )
            self._drop_shell()
            if not self.frozen:  # ready before the first command, which then starts at once
                with self._shell_lock:
                    self._shell = self._open_shell()

    def _find(self) -> Container | None:
        assert self.conversation_id is not None
        found = self.client.containers.list(
            all=True,
            # One removed between the listing and its inspect (`docker rm -f` under way)
            # is skipped, not a NotFound that fails the whole search.
            ignore_removed=True,
            filters={
                "label": [
                    f"{labels.MANAGED}=true",
                    f"{labels.CONVERSATION}={self.conversation_id}",
                ]
            },
        )
        # One being removed (`docker rm -f` still under way) or dead cannot be started again:
        # a new container on the same volume or folder takes its place.
        found = [c for c in found if c.status not in ("removing", "dead")]
        if not found:
            return None
        found.sort(key=lambda c: c.attrs.get("Created", ""), reverse=True)
        return found[0]

    def _create(self) -> Container:
        assert self.conversation_id is not None
        client = self.client
        ensure_image(client, self.image, self.on_progress)
        owner: container_spec.Owner | None = None
        if self.host_dir is not None:
            self.host_dir.mkdir(parents=True, exist_ok=True)
            volumes = {str(self.host_dir): {"bind": labels.WORKDIR, "mode": "rw"}}
            owner = container_spec.folder_owner(client, self.image, self.host_dir)
        else:
            name = self.volume
            assert name is not None
            try:
                client.volumes.get(name)
            except docker.errors.NotFound:
                client.volumes.create(name=name, labels=labels.labels_for(self.conversation_id))
            volumes = {name: {"bind": labels.WORKDIR, "mode": "rw"}}
        options = container_spec.create_options(
            conversation_id=self.conversation_id,
            volumes=volumes,
            environment=self._container_environment(),
            memory=self.memory,
            cpus=self.cpus,
            pids_limit=self.pids_limit,
            network=self._network_name(),
            owner=owner,
        )
        try:
            container = client.containers.run(self.image, MAIN_PROCESS, **options)
        except docker.errors.ImageNotFound as exc:
            raise ImageMissingError(self.image, offline_hint(self.image)) from exc
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # else: a container of that name exists without our label
                raise
            container = client.containers.run(self.image, MAIN_PROCESS, **{**options, "name": None})
        self._fence(container)
        return container

    def _start_container(self, container: Container) -> None:
        """Start it on its own network, then fence the host off (each start: a new netns)."""
        self._attach_network(container)
        container.start()
        container.reload()
        self._fence(container)

    def close(self) -> None:
        """Stop the container; it and its volume stay, so start() can reattach later."""
        with self._lifecycle:
            self._drop_shell()
            if self._container is None:
                return
            with contextlib.suppress(docker.errors.NotFound), engine_errors():
                if self.frozen or self.brief_freeze.active:
                    self._container.unpause()
                self._container.stop(timeout=3)
                self._close_door()
            self._set_hold(Hold.NONE)

    def remove(self, volume: bool = True) -> None:
        """Remove the container, and with ``volume`` its named volume (never a host folder)."""
        with self._lifecycle:
            self._drop_shell()
            client = self.client
            container = self._container or (self._find() if self.conversation_id else None)
            with engine_errors():
                if container is not None:
                    with contextlib.suppress(docker.errors.NotFound):
                        container.remove(force=True)
                self._remove_networks()
                name = self.volume
                if volume and name is not None:
                    removal.remove_volume(client, name)
            self._container = None
            self._files = None
            self._set_hold(Hold.NONE)

    # -- freeze ----------------------------------------------------------------------------

    def _set_hold(self, hold: Hold) -> None:
        self.hold = hold
        if hold is Hold.NONE:
            self._clock.resume()
        else:
            self._clock.pause()

    def freeze(self) -> None:
        """Freeze every process in the container (the engine's pause API), checking with the
        engine that it took and retrying briefly. Raises FreezeFailedError when it did not.
        Idempotent."""
        outcome = self._suspend(PauseMode.FREEZE)
        if not outcome.held:
            raise FreezeFailedError(f"The container could not be frozen: {outcome.detail}.")

    def suspend(self) -> PauseOutcome:
        """Hold every process still as ``pause_mode`` says (freeze, signals, or auto: freeze,
        then signals when the freeze fails). Never raises for a pause that did not take:
        the outcome says what is true, and the command then runs on."""
        return self._suspend(self.pause_mode)

    def _suspend(self, mode: PauseMode) -> PauseOutcome:
        container = self.container
        with engine_errors(container.short_id), self.brief_freeze.pause_gate() as took_over:
            if took_over:  # a checkpoint froze it: that freeze is this pause's now
                self._set_hold(Hold.FROZEN)
            if self.hold is not Hold.NONE:
                return PauseOutcome(hold=self.hold)
            self._clock.pause()  # first: no timer may fire while the pause is under way
            reason = ""
            if mode is not PauseMode.SIGNALS:
                reason = pause_modes.freeze(container)
                if not reason:
                    self._set_hold(Hold.FROZEN)
                    return PauseOutcome(hold=Hold.FROZEN)
                if mode is PauseMode.FREEZE:
                    self._clock.resume()
                    return PauseOutcome(hold=Hold.NONE, detail=reason)
            shell = self._shell
            try:
                left = pause_modes.signal_all(
                    self.client.api, str(container.id), shell.pid if shell else None, "STOP"
                )
            except Exception as exc:
                self._clock.resume()
                why = f"{reason}; " if reason else ""
                return PauseOutcome(hold=Hold.NONE, detail=f"{why}SIGSTOP failed ({exc})")
            self._set_hold(Hold.STOPPED)
            detail = f"{reason}" if reason else ""
            if left:
                detail += f"{'; ' if detail else ''}{left} processes could not be stopped"
            return PauseOutcome(hold=Hold.STOPPED, detail=detail)

    def thaw(self) -> None:
        """Undo the pause, however it was held (unfreeze, or SIGCONT). Idempotent."""
        container = self.container
        hold = self.hold
        if hold is Hold.NONE:
            return
        if self.brief_freeze.hand_back():  # frozen on for a checkpoint, thawed as it ends
            self._set_hold(Hold.NONE)
            return
        with engine_errors(container.short_id):
            if hold is Hold.FROZEN:
                try:
                    container.unpause()
                except docker.errors.APIError as exc:
                    if "not paused" not in str(exc):
                        raise
            else:
                shell = self._shell
                pause_modes.signal_all(
                    self.client.api, str(container.id), shell.pid if shell else None, "CONT"
                )
        self._set_hold(Hold.NONE)

    # -- the shell -------------------------------------------------------------------------

    def _drop_shell(self) -> None:
        shell, self._shell = self._shell, None
        warden, self._warden = self._warden, None
        if warden is not None:
            warden.close()
        if shell is not None:
            shell.close()

    def restart_shell(self) -> None:
        """Replace the shell with a fresh one (cwd, variables and jobs start over)."""
        with self._shell_lock:
            self._drop_shell()
            self._shell = self._open_shell()

    def _open_shell(self) -> PersistentShell:
        container = self.container
        died = 0
        while True:
            shell = PersistentShell(
                self.client.api,
                str(container.id),
                clock=self._clock,
                workdir=labels.WORKDIR,
                environment=self._container_environment(),
                exec_gate=self._exec_gate,
            )
            try:
                with engine_errors(container.short_id):
                    shell.open()
                self._open_warden(shell)
                return shell
            except ShellDiedError:
                # An app killed mid-rewind leaves its sweep (stillness.end_all, a bounded
                # number of rounds) running in the container, and it ends the next app's
                # first shell too: once it is over, a shell lives. So: a few more tries.
                died += 1
                if died >= SHELL_START_TRIES:
                    raise
                time.sleep(0.5 * died)
                continue
            except docker.errors.APIError as exc:
                if not pause_modes.is_paused_error(exc):
                    error = ShellDiedError(f"The shell could not start: {exc}")
                    raise self._gone_or(error) from exc
            # Frozen while the shell was being opened (a pause raced the first command):
            # exec cannot start in a frozen container, so wait for the thaw, as a running
            # command would.
            self._wait_while_paused()

    def _open_warden(self, shell: PersistentShell) -> None:
        """The helper that ends what the shell started (sandbox/warden.py). On the first
        shell of a reattached container it also ends the shells an app left behind."""
        old, self._warden = self._warden, None
        if old is not None:
            old.close()
        if shell.pid is None:
            return
        try:
            with self._exec_gate:
                warden = Warden(self.client.api, str(self.container.id), shell.pid)
        except Exception as exc:  # Stop still works through the shell, less thoroughly
            log.warning("could not start the process warden: %s", exc)
            return
        self._warden = warden
        if not self._created_fresh and not self._stale_checked:
            self._stale_checked = True
            ended = warden.ask("stale")
            if ended > 0:
                log.info("ended %d shell(s) left running by an earlier session", ended)

    def _ask_warden(self, word: str) -> int:
        warden = self._warden
        return warden.ask(word) if warden is not None else -1

    def _wait_while_paused(self) -> None:
        container = self.container
        while True:
            if not self.frozen:
                with engine_errors(container.short_id):
                    container.reload()
                if container.status != "paused":
                    return
            threading.Event().wait(0.05)

    def _current_shell(self) -> PersistentShell:
        with self._shell_lock:
            shell = self._shell
            if shell is not None and not shell.alive:
                self._shell = None
                if not shell.killed_by_us:
                    # Say it once; the call after this one gets a fresh shell.
                    raise self._gone_or(ShellDiedError(shell._died_message()))
                shell = None
            if shell is None:
                shell = self._shell = self._open_shell()
            return shell

    def _gone_or(self, error: SandboxError) -> SandboxError:
        return liveness.gone_or(self._container, error)

    def execute(
        self,
        command: str,
        timeout: float | None = None,
        *,
        no_output_timeout: float | None = None,
        is_input: bool = False,
        on_output: OutputCallback | None = None,
    ) -> CommandResult:
        """Run ``command`` in the persistent shell (or send it input with ``is_input``).

        Blocks until the command ends, ``timeout`` kills it, ``no_output_timeout`` passes
        with no new output (it then keeps running: ``still_running``), or interrupt().
        Time spent frozen counts toward neither timeout.
        """
        shell = self._current_shell()
        if not is_input:
            self._command_started = time.time()
            if not shell.busy:
                self._ask_warden("mark")  # the jobs that were there before this command
        try:
            with self._disk.watch() as watch:
                result = shell.run(
                    command,
                    timeout,
                    no_output_timeout=no_output_timeout,
                    is_input=is_input,
                    on_output=on_output,
                )
            ran_s = time.time() - self._command_started
            result = self._disk.checked(self._named_oom(result), watch, ran_s)
            return self._after_command(result)
        except ShellDiedError as exc:
            with self._shell_lock:
                if self._shell is shell:
                    self._shell = None
            gone = self._gone_or(exc)
            if gone is exc:
                raise
            raise gone from exc

    @property
    def disk_limit(self) -> int | None:
        """The storage limit in bytes (writable layer + /workspace), None for none."""
        return self._disk.limit

    def _layer_size(self) -> int | None:
        container = self._container
        return None if container is None else layer_size(self.client.api, str(container.id))

    def _workspace_size(self) -> int | None:
        container = self._container
        if container is None or self.hold is not Hold.NONE:
            return None  # no exec into a held container
        return workspace_size(self.client.api, str(container.id), self._exec_gate)

    def _after_command(self, result: CommandResult) -> CommandResult:
        """Stopped or timed out: its background jobs end with it. Out of processes (a fork
        bomb): every job of the shell ends, so commands can run again, and the result
        says so."""
        if result.interrupted or result.timed_out:
            self._ask_warden("end-new")
            return result
        if not any(sign in result.output for sign in _NO_PROCESSES):
            return result
        ended = self._ask_warden("end-all")
        if ended <= 0:
            return result
        note = (
            f"\n[The container ran out of processes (its limit is {self.pids_limit}), so "
            f"Berth ended the shell's background jobs ({ended} process group"
            f"{'s' if ended != 1 else ''}). Commands can run again; start again only the "
            "jobs you need.]"
        )
        return result.model_copy(update={"output": result.output + note})

    def _named_oom(self, result: CommandResult) -> CommandResult:
        """The result, saying "ran out of memory" when the engine saw an OOM kill."""
        if not oom.looks_killed(result):
            return result
        counted = self._ask_warden("oom")  # the kernel's own count since the mark
        if counted >= 0:
            self._oom_checked = time.time()
            return oom.name_oom(result, self.memory) if counted else result
        # No cgroup counter to read (or no warden): the engine's events, which can be late.
        # Since this command started, never before the last check: a late second kill of
        # an earlier command must not be pinned on this one.
        since = max(self._command_started, self._oom_checked)
        try:
            with engine_errors():
                kills = oom.oom_kills_awaited(self.client.api, str(self.container.id), since)
        except Exception:  # the plain "Killed" is still true
            return result
        finally:
            self._oom_checked = time.time()
        return oom.name_oom(result, self.memory) if kills else result

    def interrupt(self) -> None:
        """End the running command: thaw if frozen, SIGINT its process group, SIGKILL if it
        lingers, then everything it started (background jobs too). Safe from any thread;
        the shell stays usable."""
        if self.hold is not Hold.NONE:
            self.thaw()
        shell = self._shell
        if shell is not None:
            command = shell.command_number
            shell.interrupt()
            # Should SIGINT and the shell's own SIGKILL not end it (no exec can start when
            # the pids limit is full), the warden ends all the command started.
            timer = threading.Timer(STOP_FALLBACK_S, self._end_if_still_busy, args=(shell, command))
            timer.daemon = True
            timer.start()

    def _end_if_still_busy(self, shell: PersistentShell, command: int) -> None:
        # Only the very command that was stopped: never one the user started since.
        if self._shell is shell and shell.busy and shell.command_number == command:
            self._ask_warden("end-new")
