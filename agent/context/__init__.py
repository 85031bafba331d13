"""What the model sees: the context window, condensation, history shaping, AGENTS.md."""
