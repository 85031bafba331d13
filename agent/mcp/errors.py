"""How a call to an MCP server can end without a result (no SDK import here: the engine
reads these without loading the protocol until a server is configured)."""

from __future__ import annotations


class McpCallError(Exception):
    """A call that got no result: the server failed, died or is not running."""


class McpCallAbandoned(Exception):
    """The call was given up (a pause or a stop); the server runs on."""
