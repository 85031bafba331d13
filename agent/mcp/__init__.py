"""MCP servers: their configuration, what they offer the model, and the approval of their
tools (see DESIGN.md, "Doors")."""

from agent.mcp.config import (
    TOOL_SEPARATOR,
    McpConfigError,
    McpServerConfig,
    McpServerState,
    McpServerStatus,
    McpToolInfo,
    ToolApproval,
    default_approval,
    parse_mcp_json,
    qualified_tool_name,
)

__all__ = [
    "TOOL_SEPARATOR",
    "McpConfigError",
    "McpServerConfig",
    "McpServerState",
    "McpServerStatus",
    "McpToolInfo",
    "ToolApproval",
    "default_approval",
    "parse_mcp_json",
    "qualified_tool_name",
]
