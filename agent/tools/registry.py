"""`Tool` and `register_tool`: how a program names the tools its agent may use (seed style).

    register_tool("BashTool", BashTool)
    agent = Agent(llm=llm, tools=[Tool(name="BashTool"), Tool(name="FileEditorTool")])

The built-in tools are registered under their class names and the names the model sees.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from agent.tools.base import ToolDefinition


class Tool(BaseModel):
    """A tool the agent may use: a registered name, and keyword arguments for its class."""

    model_config = ConfigDict(frozen=True)

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


_registry: dict[str, type[ToolDefinition]] = {}
_lock = threading.Lock()


def register_tool(name: str, definition: type[ToolDefinition]) -> None:
    """Make ``definition`` available as ``Tool(name=name)``. Registering again replaces it."""
    from agent.tools.base import ToolDefinition

    if not (isinstance(definition, type) and issubclass(definition, ToolDefinition)):
        raise TypeError(
            f"register_tool({name!r}, ...) needs a ToolDefinition subclass such as BashTool; "
            f"got {definition!r}"
        )
    with _lock:
        _registry[name] = definition


def registered_tools() -> dict[str, type[ToolDefinition]]:
    """A copy of the registry, built-ins included."""
    import agent.tools  # noqa: F401  (registers the built-ins)

    with _lock:
        return dict(_registry)
