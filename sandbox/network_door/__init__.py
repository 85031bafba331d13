"""The network door: an allow-list enforced by a proxy of the conversation's own."""

from sandbox.network_door.policy import Network, NetworkPolicy, NetworkRequest

__all__ = ["Network", "NetworkPolicy", "NetworkRequest"]
