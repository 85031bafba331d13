"""The network door: an allow-list enforced by a proxy of the conversation's own."""

from sandbox.network_door.policy import Network, NetworkPolicy, NetworkRequest
from sandbox.network_door.secret import Secret

__all__ = ["Network", "NetworkPolicy", "NetworkRequest", "Secret"]
