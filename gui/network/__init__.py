"""The network door in the window: the Network tab (every request the conversation's proxy
saw, Allow this host), the network part of Settings (mode, allow-list, presets, secrets)."""
