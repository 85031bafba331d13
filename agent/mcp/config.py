"""What an MCP server is, as the user writes it, and what the app says of one.

The shape is the ``mcpServers`` one other tools use (Claude Code, Cursor, Cline): a stdio
server has ``command`` (and ``args``, ``env``), run inside the conversation's container;
an HTTP one has ``url`` (and ``headers``), reached through the network door's proxy.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

# A server's name becomes part of a tool's name (`<server>__<tool>`), which providers
# limit to [A-Za-z0-9_-]{1,64}.
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TOOL_SEPARATOR = "__"


class McpConfigError(ValueError):
    """A server's configuration is unusable; the message says which entry and why."""


class McpServerConfig(BaseModel):
    """One entry of ``mcpServers``: exactly one of ``command`` (stdio) or ``url`` (HTTP)."""

    model_config = ConfigDict(extra="ignore")  # other tools' keys (e.g. "type") pass

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # Seconds the server has to answer `initialize` and list its tools.
    start_timeout_s: float = Field(default=60.0, gt=0, le=600)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if bool(self.command) == bool(self.url):
            raise ValueError('give either "command" (a stdio server) or "url" (an HTTP one)')
        if self.url and not re.match(r"^https?://", self.url):
            raise ValueError(f"url must start with http:// or https://, not {self.url!r}")
        return self

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"


def check_server_name(name: str) -> str:
    if not SERVER_NAME.match(name) or TOOL_SEPARATOR in name:
        raise McpConfigError(
            f"MCP server name {name!r}: use 1-32 letters, digits, '-' or '_' (not '__')"
        )
    return name


def check_server_names(servers: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
    for name in servers:
        check_server_name(name)
    return servers


# Servers by name, their names checked: the type of every field that holds them.
McpServers = Annotated[dict[str, McpServerConfig], AfterValidator(check_server_names)]


def parse_servers(raw: dict[str, Any], where: str) -> dict[str, McpServerConfig]:
    """``{"name": {...}}`` checked entry by entry; the first bad one is a clear error."""
    servers: dict[str, McpServerConfig] = {}
    for name, entry in raw.items():
        check_server_name(name)
        try:
            servers[name] = McpServerConfig.model_validate(entry)
        except ValidationError as error:
            reasons = "; ".join(e["msg"] for e in error.errors())
            raise McpConfigError(f"{where}: server {name!r}: {reasons}") from None
    return servers


def parse_mcp_json(text: str, where: str = ".mcp.json") -> dict[str, McpServerConfig]:
    """The servers of a ``.mcp.json`` file (``{"mcpServers": {...}}``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise McpConfigError(f"{where}: not JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
        raise McpConfigError(f'{where}: expected {{"mcpServers": {{"name": {{...}}}}}}')
    return parse_servers(data.get("mcpServers", {}), where)


def qualified_tool_name(server: str, tool: str) -> str:
    """The name the model sees: ``<server>__<tool>``."""
    return f"{server}{TOOL_SEPARATOR}{tool}"


class ToolApproval(StrEnum):
    """What happens when the model calls a tool: run it, ask the user first, or refuse."""

    ALLOW = "allow"
    ASK = "ask"
    NEVER = "never"


def default_approval(annotations: dict[str, Any] | None) -> ToolApproval:
    """A tool that says it only reads is allowed; any other (destructive or silent) asks."""
    if annotations and annotations.get("readOnlyHint") and not annotations.get("destructiveHint"):
        return ToolApproval.ALLOW
    return ToolApproval.ASK


class McpToolInfo(BaseModel):
    """One tool of a server, as the Settings page and the model's tool list show it."""

    name: str  # the server's own name for it
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, Any] = Field(default_factory=dict)
    approval: ToolApproval = ToolApproval.ASK


class McpServerState(StrEnum):
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"
    STOPPED = "stopped"


class McpServerStatus(BaseModel):
    """What the app says of one server of one conversation (notices, the Settings list)."""

    name: str
    transport: str
    state: McpServerState
    tools: list[McpToolInfo] = Field(default_factory=list)
    # Why it failed, with the last lines of its stderr when it had any.
    error: str = ""
