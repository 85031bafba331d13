"""The `finish` tool: the model says it is done; the engine ends the run with its message."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from agent.tools.base import OutputCallback, ToolDefinition, ToolResult

if TYPE_CHECKING:
    from sandbox import DockerWorkspace


class FinishArguments(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str = Field(
        description="What you did and what the user should know: results, files changed, "
        "anything left undone."
    )


class FinishTool(ToolDefinition[FinishArguments]):
    name: ClassVar[str] = "finish"
    Arguments: ClassVar[type[BaseModel]] = FinishArguments
    description: ClassVar[str] = (
        "Call this when the task is complete, or when you cannot go further without the "
        "user (say what you need). The message is shown to the user and ends your turn."
    )

    def execute(
        self,
        args: FinishArguments,
        workspace: DockerWorkspace | None = None,
        on_output: OutputCallback | None = None,
    ) -> ToolResult:
        return ToolResult(content=args.message)
