"""The tools the model can call (`bash`, `file_editor`, `finish`) and the registry that
names them for a program (``Tool``, ``register_tool``: registry.py)."""

from agent.tools.base import ToolDefinition, ToolResult
from agent.tools.bash import BashTool
from agent.tools.file_editor import FileEditorTool
from agent.tools.finish import FinishTool
from agent.tools.registry import Tool, register_tool, registered_tools
from agent.tools.resolve import resolve_tools

__all__ = [
    "BashTool",
    "FileEditorTool",
    "FinishTool",
    "Tool",
    "ToolDefinition",
    "ToolResult",
    "register_tool",
    "registered_tools",
    "resolve_tools",
]
