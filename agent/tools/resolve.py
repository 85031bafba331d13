"""From the user's `Tool(name=...)` list to the tool instances the engine runs."""

from __future__ import annotations

from collections.abc import Sequence

from agent.tools.base import ToolDefinition
from agent.tools.finish import FinishTool
from agent.tools.registry import Tool, registered_tools


def resolve_tools(tools: Sequence[Tool | str]) -> list[ToolDefinition]:
    """Instances of the named tools, in order, then `finish` unless it was listed.

    Raises ValueError for an unknown name (listing the registered ones), for params the
    tool's class does not take, or for two tools the model would see under one name.
    """
    registry = registered_tools()
    resolved: list[ToolDefinition] = []
    for spec in tools:
        tool = Tool(name=spec) if isinstance(spec, str) else spec
        cls = registry.get(tool.name)
        if cls is None:
            names = ", ".join(sorted(registry))
            raise ValueError(f"Unknown tool {tool.name!r}. Registered tools: {names}.")
        try:
            instance = cls(**tool.params)
        except TypeError as exc:
            raise ValueError(f"Tool {tool.name!r} rejected params {tool.params!r}: {exc}") from exc
        if any(existing.name == instance.name for existing in resolved):
            raise ValueError(
                f"Tool {tool.name!r} is listed twice (the model sees it as {instance.name!r})."
            )
        resolved.append(instance)
    if not any(t.name == FinishTool.name for t in resolved):
        resolved.append(FinishTool())
    return resolved
