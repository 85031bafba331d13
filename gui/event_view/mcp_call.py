"""An MCP tool call as the window names it: which server, which tool, and its arguments.

The model sees an MCP tool as ``<server>__<tool>`` (agent.mcp.config); a server's name
never holds ``__``, so the first one splits it. Built-in tools (bash, file_editor,
finish, find_tools) have no ``__`` at all.
"""

from __future__ import annotations

import json
from typing import Any

from agent.mcp.config import TOOL_SEPARATOR, McpServerState, McpServerStatus

# Past this many characters a string argument shows its head and how much was left out:
# a file's content passed to a tool would otherwise fill the card.
LONG_VALUE = 160


def mcp_call(tool_name: str) -> tuple[str, str] | None:
    """``(server, tool)`` for an MCP tool's qualified name, else None."""
    server, sep, tool = tool_name.partition(TOOL_SEPARATOR)
    if not sep or not server or not tool:
        return None
    return server, tool


def _elided(value: Any, limit: int) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… ({len(value) - limit:,} more characters)"
    if isinstance(value, dict):
        return {key: _elided(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [_elided(item, limit) for item in value]
    return value


def pretty_arguments(arguments: dict[str, Any], limit: int = LONG_VALUE) -> str:
    """The arguments as indented JSON, long strings cut to their first ``limit`` chars."""
    if not arguments:
        return "{}"
    return json.dumps(_elided(arguments, limit), indent=2, ensure_ascii=False)


def server_line(server: McpServerStatus) -> tuple[str, str, bool]:
    """One server's line in the stream: ``(label, detail, is_warning)``, e.g.
    ``("MCP: git — 12 tools", "", False)`` or ``("MCP: git failed", why, True)``."""
    if server.state is McpServerState.READY:
        count = len(server.tools)
        return f"MCP: {server.name} \N{EM DASH} {count} tool{'s' if count != 1 else ''}", "", False
    if server.state is McpServerState.FAILED:
        # Why, then its stderr's last lines, on one line: the marker elides what does not
        # fit, and copying the row gives all of it.
        lines = [line.strip() for line in server.error.splitlines() if line.strip()]
        detail = " \N{MIDDLE DOT} ".join(lines) or "no reason given"
        return f"MCP: {server.name} failed", detail, True
    if server.state is McpServerState.STOPPED:
        return f"MCP: {server.name} stopped", server.error, bool(server.error)
    return f"MCP: {server.name} starting\N{HORIZONTAL ELLIPSIS}", "", False
