"""Checkpoints in the window: the markers' Rewind and Fork, the Changes view of what the
agent changed, and the Settings box for the store's disk space."""
