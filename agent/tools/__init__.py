"""The tools the model can call: `bash`, `file_editor` and `finish`."""

from agent.tools.base import ToolDefinition, ToolResult
from agent.tools.bash import BashTool
from agent.tools.file_editor import FileEditorTool
from agent.tools.finish import FinishTool
from agent.tools.registry import register_tool
from agent.tools.resolve import resolve_tools

for _cls in (BashTool, FileEditorTool, FinishTool):
    register_tool(_cls.__name__, _cls)
    register_tool(_cls.name, _cls)

__all__ = [
    "BashTool",
    "FileEditorTool",
    "FinishTool",
    "ToolDefinition",
    "ToolResult",
    "resolve_tools",
]
