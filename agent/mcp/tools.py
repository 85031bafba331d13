"""MCP tools as the model sees them (``<server>__<tool>``), how a call's result reads, and
``find_tools`` for when the servers' schemas would crowd the context window."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from agent.attachments import Attachment, image_attachment
from agent.mcp.config import McpToolInfo, ToolApproval, qualified_tool_name
from agent.mcp.errors import McpCallAbandoned, McpCallError
from agent.tools.base import ToolResult

if TYPE_CHECKING:
    from mcp_types import CallToolResult

    from agent.mcp.servers import McpServers

# The servers' schemas may take this share of the context window; past it the model gets
# the compact list and find_tools instead.
SCHEMA_BUDGET = 0.10
FIND_TOOLS = "find_tools"
FIND_LIMIT = 8
ABANDONED_TEXT = (
    "The user paused while this MCP tool call ran: the call was abandoned, its result is "
    "unknown (the server runs on). Call it again if it is still needed."
)


class McpTool:
    """One server's tool, under the name the model sees."""

    def __init__(self, servers: McpServers, server: str, info: McpToolInfo) -> None:
        self.servers = servers
        self.server = server
        self.info = info
        self.name = qualified_tool_name(server, info.name)

    def openai_schema(self) -> dict[str, Any]:
        parameters = dict(self.info.input_schema) or {"type": "object"}
        parameters.setdefault("type", "object")
        parameters.setdefault("properties", {})
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": f"[MCP server {self.server}] {self.info.description}".strip(),
                "parameters": parameters,
            },
        }

    @property
    def approval(self) -> ToolApproval:
        return self.servers.approval(self.info, self.server)

    def call(self, arguments: dict[str, Any], cancel: threading.Event) -> ToolResult:
        """The call's result as the model reads it; McpCallAbandoned when ``cancel`` came."""
        try:
            result = self.servers.call(self.server, self.info.name, arguments, cancel)
        except McpCallError as exc:
            return ToolResult.error(f"The MCP tool {self.name} failed: {exc}")
        return result_of(result)


def result_of(result: CallToolResult) -> ToolResult:
    """Text joined; an image becomes an attachment (a line says so where it was, so the
    model knows which one it is), audio is said in a line."""
    parts: list[str] = []
    attachments: list[Attachment] = []
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)  # type: ignore[union-attr]
        elif kind == "image":
            mime = getattr(block, "mime_type", "") or ""
            image = image_attachment(mime, getattr(block, "data", "") or "")
            if isinstance(image, Attachment):
                attachments.append(image)
                parts.append(f"[Image {len(attachments)}: {mime}, {image.size:,} bytes; attached.]")
            else:
                parts.append(image)
        elif kind == "audio":
            mime = getattr(block, "mime_type", "") or kind
            size = len(getattr(block, "data", "") or "") * 3 // 4
            parts.append(f"[The tool returned audio ({mime}, about {size} bytes); not shown.]")
        elif kind == "resource":
            resource = block.resource  # type: ignore[union-attr]
            text = getattr(resource, "text", None)
            parts.append(text if text is not None else f"[A resource: {resource.uri}]")
        elif kind == "resource_link":
            parts.append(f"[A resource link: {getattr(block, 'uri', '')}]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=1))
    text = "\n".join(parts) or "(The tool returned nothing.)"
    return ToolResult(content=text, is_error=bool(result.is_error), attachments=attachments)


class FindTools:
    """``find_tools(query)``: full schemas of the MCP tools that match, on demand."""

    name = FIND_TOOLS

    def __init__(self, tools: list[McpTool]) -> None:
        self.tools = tools

    def openai_schema(self) -> dict[str, Any]:
        listing = "\n".join(f"- {t.name}: {_one_line(t.info.description)}" for t in self.tools)
        description = (
            "Look up MCP tools by words of their name or description; returns their full "
            "JSON schemas. The MCP tools (call any of them by its name once you know its "
            f"arguments):\n{listing}"
        )
        return {
            "type": "function",
            "function": {
                "name": FIND_TOOLS,
                "description": description,
                "parameters": {
                    "type": "object",
                    "properties": {
                        "query": {"type": "string", "description": "words, or a tool's name"}
                    },
                    "required": ["query"],
                },
            },
        }

    def call(self, arguments: dict[str, Any]) -> ToolResult:
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            return ToolResult.error('find_tools takes {"query": "<words or a tool name>"}')
        words = query.lower().split()
        scored = []
        for tool in self.tools:
            haystack = f"{tool.name} {tool.info.description}".lower()
            score = sum(haystack.count(word) for word in words)
            if tool.name.lower() == query.strip().lower():
                score += 100
            if score:
                scored.append((score, tool))
        scored.sort(key=lambda pair: -pair[0])
        found = [tool.openai_schema()["function"] for _, tool in scored[:FIND_LIMIT]]
        if not found:
            names = ", ".join(tool.name for tool in self.tools)
            return ToolResult(content=f"No MCP tool matches {query!r}. The tools: {names}")
        return ToolResult(content=json.dumps(found, ensure_ascii=False, indent=1))


def refused_text(name: str) -> str:
    return (
        f"The user does not allow the tool {name} (its approval is set to never). Do "
        "without it, or ask the user to allow it."
    )


def _one_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:120]


__all__ = [
    "ABANDONED_TEXT",
    "SCHEMA_BUDGET",
    "FindTools",
    "McpCallAbandoned",
    "McpTool",
    "refused_text",
]
