"""The loop, its state, persistence, recovery, pausing and checkpoints."""
