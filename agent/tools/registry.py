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
_builtins_registered = False


def register_tool(name: str, definition: type[ToolDefinition]) -> None:
    """Make ``definition`` available as ``Tool(name=name)``. Registering again replaces it."""
    from agent.tools.base import ToolDefinition

    if not (isinstance(definition, type) and issubclass(definition, ToolDefinition)):
        raise TypeError(
            f"register_tool({name!r}, ...) needs a ToolDefinition subclass such as BashTool; "
            f"got {definition!r}"
        )
    with _lock:
        _register_builtins()
        _registry[name] = definition


def registered_tools() -> dict[str, type[ToolDefinition]]:
    """A copy of the registry, built-ins included."""
    with _lock:
        _register_builtins()
        return dict(_registry)


def _register_builtins() -> None:
    """Once, before any other registration (so a program's own ``BashTool`` replaces the
    built-in one, never the other way round). Called with ``_lock`` held."""
    global _builtins_registered
    if _builtins_registered:
        return
    from agent.tools.bash import BashTool
    from agent.tools.file_editor import FileEditorTool
    from agent.tools.finish import FinishTool

    for cls in (BashTool, FileEditorTool, FinishTool):
        _registry[cls.__name__] = cls
        _registry[cls.name] = cls
    _builtins_registered = True
