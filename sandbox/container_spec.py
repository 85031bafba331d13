"""What a conversation's container is made with: hardening, limits, and whose files it makes.

On a host folder the agent runs as the folder's owner (uid:gid), so what it makes belongs to
the user, and under a seccomp profile that refuses set-id bits (sandbox/seccomp.py): a file
in that folder is a file on the host, where a setuid program would be anyone's way in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from sandbox import labels, seccomp

# What apt and pip need as root inside the container; every other capability is dropped.
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "KILL"]
# On a host folder: no FSETID (the kernel then clears set-id bits a write would keep).
HOST_FOLDER_CAPABILITIES = [cap for cap in CAPABILITIES if cap != "FSETID"]
MAIN_PROCESS = ["sleep", "infinity"]
# A non-root user has no home in the image; /tmp is writable by everyone.
NON_ROOT_HOME = "/tmp"
# The SDK's base URLs for an engine on this machine (unix socket, Windows named pipe).
_LOCAL_ENGINES = (
    "http+docker://localhost",
    "http+docker://localunixsocket",
    "http+docker://localnpipe",
)

Owner = tuple[int, int]


def is_local_engine(client: docker.DockerClient) -> bool:
    return str(client.api.base_url) in _LOCAL_ENGINES


def folder_owner(client: docker.DockerClient, image: str, folder: Path) -> Owner:
    """The uid:gid owning ``folder`` as the engine's host sees it.

    A local engine sees this machine's folder; a remote one mounts the folder of its own
    host, so a short-lived container of ``image`` looks (``stat`` from coreutils), falling
    back to this machine's view when that fails."""
    if not is_local_engine(client):
        try:
            out = client.containers.run(
                image,
                ["stat", "-c", "%u:%g", labels.WORKDIR],
                volumes={str(folder): {"bind": labels.WORKDIR, "mode": "ro"}},
                network_mode="none",
                cap_drop=["ALL"],
                security_opt=["no-new-privileges:true"],
                labels=labels.ours(),
                remove=True,
            )
            uid, _, gid = out.decode().strip().partition(":")
            return int(uid), int(gid)
        except (docker.errors.DockerException, ValueError):
            pass
    info = os.stat(folder)
    return info.st_uid, info.st_gid


def container_owner(container: Container) -> Owner | None:
    """The uid:gid the container runs as, when it was made for a host folder's owner."""
    user = str(container.attrs.get("Config", {}).get("User") or "")
    uid, _, gid = user.partition(":")
    if uid.isdigit() and gid.isdigit():
        return int(uid), int(gid)
    return None


def create_options(
    *,
    conversation_id: str,
    volumes: dict[str, dict[str, str]],
    environment: dict[str, str],
    memory: str,
    cpus: float,
    pids_limit: int,
    network: str | None,
    owner: Owner | None,
) -> dict[str, Any]:
    """The keyword arguments of ``containers.run`` for a conversation's container.

    ``network``: the name of its own network, or None for none at all. ``owner``: the host
    folder's uid:gid (None on a named volume: the agent is root in its own container)."""
    options: dict[str, Any] = {
        "detach": True,
        "init": True,
        "working_dir": labels.WORKDIR,
        "labels": labels.labels_for(conversation_id),
        "volumes": volumes,
        "environment": environment,
        "privileged": False,
        "security_opt": ["no-new-privileges:true"],
        "cap_drop": ["ALL"],
        "cap_add": CAPABILITIES,
        "pids_limit": pids_limit,
        "mem_limit": memory,
        "memswap_limit": memory,
        "nano_cpus": int(cpus * 1e9),
        "name": labels.container_name(conversation_id),
        "network_mode": network or "none",
    }
    if owner is not None:
        uid, gid = owner
        options["user"] = f"{uid}:{gid}"
        options["cap_add"] = HOST_FOLDER_CAPABILITIES
        options["security_opt"] = [*options["security_opt"], seccomp.security_opt()]
        options["environment"] = {"HOME": NON_ROOT_HOME, **environment}
    return options
