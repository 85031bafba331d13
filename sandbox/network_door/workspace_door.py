"""The network side of DockerWorkspace: off, open, or an allow-list through a proxy.

Open: the conversation's own bridge network, fenced from the host (sandbox/network.py).
Allow-list: the agent's container on the internal door network alone, the proxy beside it
(sandbox/network_door/proxy.py), the proxy settings in its environment. Secrets
(sandbox/network_door/secret.py): placeholders in that environment, the values handed to
the proxy at each start, the installation's CA in the container's trust store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import docker
from docker.models.containers import Container

from sandbox import network as bridge
from sandbox.errors import SandboxError
from sandbox.network_door import proxy, proxy_ca
from sandbox.network_door.policy import Network, NetworkPolicy, NetworkRequest
from sandbox.network_door.relay import ProxyRelay
from sandbox.network_door.secret import Secret, SecretSet

log = logging.getLogger(__name__)


class NetworkDoor:
    """Mixed into DockerWorkspace, which provides these."""

    network: Network
    conversation_id: str | None
    environment: dict[str, str]
    on_progress: Callable[[str], None] | None
    _container: Container | None
    _secrets: SecretSet
    _exec_gate: threading.RLock
    _relay: ProxyRelay | None = None
    # Servers start at once, on threads of their own: one relay (one token) per workspace.
    # Held only while a listener is made; shared by the workspaces, as it is that brief.
    _relay_lock = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        raise NotImplementedError

    @property
    def frozen(self) -> bool:
        raise NotImplementedError

    @property
    def secrets(self) -> list[Secret]:
        return list(self._secrets.secrets)

    @property
    def policy(self) -> NetworkPolicy | None:
        """The allow-list, when the network goes through the proxy."""
        return self.network if isinstance(self.network, NetworkPolicy) else None

    def _container_environment(self) -> dict[str, str]:
        if self.policy is None:
            return dict(self.environment)
        given = self._secrets
        # The placeholders last: a secret's name never carries anything else.
        trust = proxy_ca.environment() if given.secrets else {}
        return {**proxy.environment(), **trust, **self.environment, **given.placeholders}

    def _network_name(self) -> str | None:
        """The network the agent's container is made on (made if missing), or None."""
        if not self.network:
            return None
        assert self.conversation_id is not None
        if self.policy is not None:
            return str(proxy.door_network(self.client, self.conversation_id).name)
        return str(bridge.ensure_network(self.client, self.conversation_id).name)

    def _attach_network(self, container: Container) -> None:
        """Before the container starts again: on the network its mode asks for, alone."""
        if not self.network or self.conversation_id is None:
            return
        door = proxy.door_network(self.client, self.conversation_id) if self.policy else None
        bridge.attach(self.client, container, self.conversation_id, door)

    def _open_door(self) -> None:
        """The proxy runs whenever an allow-list conversation's container does."""
        policy = self.policy
        if policy is None or self.conversation_id is None:
            return
        container = self._container
        if container is not None:  # reattached: the placeholders its environment has
            self._secrets.adopt(container.attrs.get("Config", {}).get("Env") or [])
        # Always handed over: none makes a running proxy forget the values it had.
        payload = self._secrets.payload()
        proxy.ensure_running(self.client, self.conversation_id, policy, self.on_progress, payload)
        if self._secrets.secrets and container is not None and not self.frozen:
            try:
                with self._exec_gate:
                    proxy_ca.trust_in(container, proxy_ca.load_or_create()[1])
            except SandboxError as exc:  # HTTPS to a secret's host then fails, plainly
                log.warning("%s", exc)
                if self.on_progress is not None:
                    self.on_progress(str(exc))

    def _fence(self, container: Container) -> None:
        if self.network:
            bridge.fence_or_cut(self.client, container, self.on_progress)

    def proxy_endpoint(self) -> str:
        """A proxy URL for a client on this machine (``http://berth:<token>@127.0.0.1:<port>``)
        whose requests go through this conversation's proxy, under its allow-list, secrets
        and log, as the agent's do. It lasts until the workspace is closed or removed.
        SandboxError without an allow-list (there is no proxy then)."""
        conversation_id = self.conversation_id
        if self.policy is None or conversation_id is None:
            raise SandboxError("this conversation has no network proxy (no allow-list)")
        with self._relay_lock:
            relay = self._relay
            if relay is None:
                client = self.client
                relay = ProxyRelay(client, lambda: proxy.find(client, conversation_id), proxy.PORT)
                self._relay = relay
        return relay.url

    def proxy_ca_certificate(self) -> bytes:
        """The PEM certificate of the CA whose certificates the proxy shows for a secret's
        host (an HTTPS client through proxy_endpoint() trusts it for those hosts)."""
        return proxy_ca.load_or_create()[1]

    def _end_relay(self) -> None:
        with self._relay_lock:
            relay, self._relay = self._relay, None
        if relay is not None:
            relay.close()

    def _close_door(self) -> None:
        self._end_relay()
        if self.conversation_id is not None:
            proxy.stop(self.client, self.conversation_id)

    def _remove_networks(self) -> None:
        self._end_relay()
        if self.conversation_id is not None:
            proxy.remove(self.client, self.conversation_id)
            bridge.remove_network(self.client, self.conversation_id)

    def network_log(self) -> list[NetworkRequest]:
        """Every request the proxy saw, oldest first (empty without an allow-list)."""
        if self.conversation_id is None:
            return []
        found = proxy.find(self.client, self.conversation_id)
        return proxy.read_log(found) if found is not None else []

    def set_network_policy(self, policy: NetworkPolicy) -> None:
        """A new allow-list: at once when the proxy already runs (its next request obeys
        it). From off or open, it takes effect when the container starts again."""
        if not isinstance(policy, NetworkPolicy):
            raise SandboxError(f"set_network_policy takes a NetworkPolicy, not {policy!r}")
        running = self.policy is not None and self._container is not None
        self.network = policy
        if running and self.conversation_id is not None:
            found = proxy.find(self.client, self.conversation_id)
            if found is not None:
                proxy.write_policy(found, policy)
