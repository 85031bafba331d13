"""What every tool is: a definition the model sees, and a result the model reads back.

A tool validates the model's arguments with a pydantic model; the same model yields the JSON
schema the model is given, so the schema and the checks cannot drift apart. Bad arguments
never raise: they come back as an error result that tells the model what was expected.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, Field, ValidationError

from agent.attachments import Attachment
from agent.tools.schema import tool_parameters_schema

if TYPE_CHECKING:
    from sandbox import DockerWorkspace

OutputCallback = Callable[[str], None]
ArgsT = TypeVar("ArgsT", bound=BaseModel)


class ToolResult(BaseModel):
    """The outcome of one tool call. ``content`` is what the model reads."""

    content: str
    is_error: bool = False
    exit_code: int | None = None
    cwd: str | None = None
    # Unified diff of a file edit, for the GUI's diff view.
    diff: str | None = None
    # Why the call ended early: "timeout", "interrupted", "no_output".
    ended: str | None = None
    # The command is still running in the shell (no-output timeout): the model may wait,
    # send input or interrupt it.
    still_running: bool = False
    # Images for the model (an MCP tool's), beside ``content``.
    attachments: list[Attachment] = Field(default_factory=list)

    @classmethod
    def error(cls, message: str) -> ToolResult:
        return cls(content=message, is_error=True)


class ToolDefinition(ABC, Generic[ArgsT]):
    """A tool the model can call. Subclasses set ``name``, ``description``, ``Arguments``."""

    name: ClassVar[str]
    description: ClassVar[str]
    Arguments: ClassVar[type[BaseModel]]

    def model_description(self) -> str:
        """The description the model sees; subclasses may fill in instance settings."""
        return self.description

    @classmethod
    def parameters_schema(cls) -> dict[str, Any]:
        return tool_parameters_schema(cls.Arguments)

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.model_description(),
                "parameters": self.parameters_schema(),
            },
        }

    def parse_arguments(self, arguments: Any) -> ArgsT | ToolResult:
        """The validated arguments, or an error result explaining what was wrong."""
        if not isinstance(arguments, dict):
            return ToolResult.error(
                f"The arguments of `{self.name}` must be a JSON object; got "
                f"{type(arguments).__name__}. {self.expected_arguments()}"
            )
        try:
            return self.Arguments.model_validate(arguments)  # type: ignore[return-value]
        except ValidationError as exc:
            problems = "\n".join(f"- {_describe_error(err)}" for err in exc.errors())
            return ToolResult.error(
                f"Invalid arguments for `{self.name}`:\n{problems}\n{self.expected_arguments()}"
            )

    def expected_arguments(self) -> str:
        """One line per parameter: name, type, required or not, and what it is for."""
        schema = self.parameters_schema()
        required = set(schema.get("required", []))
        lines = [f"`{self.name}` takes:"]
        for pname, prop in schema.get("properties", {}).items():
            kind = _type_label(prop)
            need = "required" if pname in required else "optional"
            desc = prop.get("description", "").split("\n")[0]
            lines.append(f"  {pname} ({kind}, {need}){': ' + desc if desc else ''}")
        return "\n".join(lines)

    def run(
        self,
        arguments: dict[str, Any],
        workspace: DockerWorkspace,
        on_output: OutputCallback | None = None,
    ) -> ToolResult:
        """Validate ``arguments`` and execute. Sandbox errors propagate to the engine."""
        parsed = self.parse_arguments(arguments)
        if isinstance(parsed, ToolResult):
            return parsed
        return self.execute(parsed, workspace, on_output)

    @abstractmethod
    def execute(
        self, args: ArgsT, workspace: DockerWorkspace, on_output: OutputCallback | None
    ) -> ToolResult: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _type_label(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return " | ".join(str(v) for v in prop["enum"])
    kind = prop.get("type")
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"array of {prop['items'].get('type', 'values')}"
    if "anyOf" in prop:
        return " or ".join(_type_label(opt) for opt in prop["anyOf"])
    return str(kind or "any")


def _describe_error(err: Any) -> str:
    loc = ".".join(str(part) for part in err.get("loc", ())) or "arguments"
    kind = err.get("type", "")
    if kind == "missing":
        return f"{loc}: required but missing"
    if kind == "value_error":
        # Our own validators' messages are already written for the model.
        return f"{loc}: {err.get('ctx', {}).get('error', err.get('msg', ''))!s}"
    got = err.get("input")
    shown = repr(got)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{loc}: {err.get('msg', 'invalid')} (got {shown})"
