"""``berth run``: a conversation in the terminal (main.py), its events printed as they come
(printer.py)."""

from agent.cli.main import main

__all__ = ["main"]
