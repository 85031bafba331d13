"""Each conversation's container on a bridge network of its own, fenced off from the host.

On the engine's default bridge every conversation reaches every other's container. Here
each gets ``berth-net-<conversation>`` (inter-container traffic off), made by label, removed
with the container and reaped with orphans. The host's services on that network's gateway
(and on the other bridges' gateways, which are the host too) are refused by a route in the
container's network namespace: a short-lived sidecar of the checkpoint helper image, with
NET_ADMIN, sharing that namespace, adds ``prohibit`` routes, at every start of the
container (a restart makes a new namespace). The agent's container itself never holds
NET_ADMIN, so it cannot take the routes away. It works on a remote engine: nothing runs on
the host. An allow-list (the Network issue) builds on this module.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import random
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.models.networks import Network
from docker.types import IPAMConfig, IPAMPool

from sandbox import labels
from sandbox.checkpoints import helper_image
from sandbox.errors import SandboxError
from sandbox.images.berth_image import Progress, ensure_image

log = logging.getLogger(__name__)

FENCE_OF = "berth.fence.of"  # on the sidecar: not CONVERSATION (see labels.CHECKPOINTS_OF)
NETWORK_OF = "berth.network.of"
# Docker's bridge driver option: no traffic between containers on the network.
_NO_ICC = {"com.docker.network.bridge.enable_icc": "false"}
# Where conversations' networks take their addresses: a /28 each (the container, the
# gateway, room to spare), so thousands fit where Docker's default pools hold about 30.
POOL_ENV = "BERTH_NETWORK_POOL"
DEFAULT_POOL = "10.213.0.0/16"
SUBNET_PREFIX = 28
_SUBNET_ATTEMPTS = 5


def network_name(conversation_id: str) -> str:
    return f"berth-net-{conversation_id}"


def ensure_network(
    client: docker.DockerClient, conversation_id: str, name: str | None = None
) -> Network:
    """The conversation's network, made if missing. With ``name``: its internal network
    of that name (the proxy's door, sandbox/network_door): no route out, and traffic
    between its two containers (the agent and its proxy) allowed."""
    internal = name is not None
    name = name or network_name(conversation_id)
    for network in client.networks.list(names=[name]):
        if network.name == name:
            return network
    tags = {**labels.ours(), NETWORK_OF: conversation_id}
    for _attempt in range(_SUBNET_ATTEMPTS):
        try:
            return client.networks.create(
                name,
                driver="bridge",
                labels=tags,
                options={} if internal else _NO_ICC,
                internal=internal,
                check_duplicate=True,
                ipam=_small_subnet(client),
            )
        except docker.errors.APIError as exc:
            if exc.status_code == 409:  # made meanwhile by another window
                return client.networks.get(name)
            if "overlap" not in str(exc).lower():
                raise
            # another network took that subnet meanwhile: pick again
    raise SandboxError(
        f"No free subnet for the conversation's network in {_pool()}: remove old "
        "conversations (Settings lists leftovers) or set BERTH_NETWORK_POOL."
    )


def _pool() -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(os.environ.get(POOL_ENV) or DEFAULT_POOL, strict=False)


def _small_subnet(client: docker.DockerClient) -> IPAMConfig:
    """A /28 of the pool that no network on the engine uses. Docker's default pools hold
    about 30 networks of /16 or /20: one per conversation would run out at the 31st."""
    used: list[ipaddress.IPv4Network] = []
    for network in client.networks.list():
        for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
            with contextlib.suppress(ValueError, TypeError):
                used.append(ipaddress.IPv4Network(config.get("Subnet"), strict=False))
    free = [
        subnet
        for subnet in _pool().subnets(new_prefix=SUBNET_PREFIX)
        if not any(subnet.overlaps(other) for other in used if other.version == 4)
    ]
    if not free:
        raise SandboxError(f"Every subnet of {_pool()} is in use by a network.")
    subnet = random.choice(free[:256])  # two windows at once rarely pick the same one
    pool = IPAMPool(subnet=str(subnet), gateway=str(next(subnet.hosts())))
    return IPAMConfig(pool_configs=[pool])


def attach(
    client: docker.DockerClient,
    container: Container,
    conversation_id: str,
    network: Network | None = None,
) -> None:
    """Before a stopped container starts again: it is on its own network alone (a reaped
    network comes back under the same name but a new id; a container made before networks
    of their own leaves the shared bridge). ``network``: that one instead of its own."""
    network = network or ensure_network(client, conversation_id)
    joined = container.attrs.get("NetworkSettings", {}).get("Networks") or {}
    name = str(network.name)
    entry = joined.get(name)
    current = entry is not None and entry.get("NetworkID") in (network.id, "", None)
    if current and len(joined) == 1:
        return
    for other in joined:
        if other != name or not current:
            with contextlib.suppress(docker.errors.APIError):
                client.api.disconnect_container_from_network(str(container.id), other, force=True)
    if not current:
        network.connect(container)
    container.reload()


def gateways(client: docker.DockerClient, container: Container) -> list[str]:
    """The IPv4 gateways of the container's networks and of the engine's other bridges:
    each is an address of the engine's host."""
    found: set[str] = set()
    for entry in (container.attrs.get("NetworkSettings", {}).get("Networks") or {}).values():
        if entry.get("Gateway"):
            found.add(str(entry["Gateway"]))
    with contextlib.suppress(docker.errors.APIError):
        for network in client.networks.list(filters={"driver": "bridge"}):
            for config in (network.attrs.get("IPAM") or {}).get("Config") or []:
                if config.get("Gateway"):
                    found.add(str(config["Gateway"]))
    return sorted(ip for ip in found if _is_ipv4(ip))


def fence(
    client: docker.DockerClient, container: Container, on_progress: Progress | None = None
) -> None:
    """Refuse the host's gateway addresses from inside the container's network namespace
    (a sidecar of the checkpoint helper image, which has iproute2)."""
    container.reload()
    addresses = gateways(client, container)
    if not addresses:
        return
    image = helper_image()
    ensure_image(client, image, on_progress)
    script = "set -e; " + "; ".join(f"ip route replace prohibit {ip}/32" for ip in addresses)
    try:
        client.containers.run(
            image,
            ["sh", "-c", script],
            network_mode=f"container:{container.id}",
            cap_drop=["ALL"],
            cap_add=["NET_ADMIN"],
            security_opt=["no-new-privileges:true"],
            labels={**labels.ours(), FENCE_OF: str(container.id)},
            remove=True,
        )
    except docker.errors.ContainerError as exc:
        said: Any = exc.stderr
        detail = said.decode(errors="replace").strip() if isinstance(said, bytes) else str(exc)
        raise SandboxError(
            f"The network fence of the container {container.short_id} failed: {detail}. The "
            f"image {image} needs iproute2."
        ) from exc


def fence_or_cut(
    client: docker.DockerClient, container: Container, on_progress: Progress | None = None
) -> str | None:
    """fence(); when it cannot be applied (no helper image on an offline machine, no
    iproute2 in it), the container is cut from every network instead: the conversation
    works on, without network, and never with the host open. Returns what to tell then."""
    try:
        fence(client, container, on_progress)
        return None
    except (SandboxError, docker.errors.APIError) as exc:
        why = str(exc).splitlines()[0][:300]
    for name in list(container.attrs.get("NetworkSettings", {}).get("Networks") or {}):
        with contextlib.suppress(docker.errors.APIError):
            client.api.disconnect_container_from_network(str(container.id), name, force=True)
    note = f"The sandbox runs without network: its wall to the host could not be set up ({why})."
    log.warning("%s", note)
    if on_progress is not None:
        on_progress(note)
    return note


def remove_network(
    client: docker.DockerClient, conversation_id: str, name: str | None = None
) -> None:
    with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
        client.networks.get(name or network_name(conversation_id)).remove()


def reap_networks(client: docker.DockerClient) -> int:
    """Remove this installation's networks whose conversation has no container left; how
    many went."""
    removed = 0
    for network in client.networks.list(filters={"label": labels.ours_filter()}):
        conversation = (network.attrs.get("Labels") or {}).get(NETWORK_OF)
        if not conversation:
            continue
        left = client.containers.list(
            all=True, sparse=True, filters={"label": f"{labels.CONVERSATION}={conversation}"}
        )
        if left:
            continue
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            network.remove()
            removed += 1
    return removed


def _is_ipv4(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False
