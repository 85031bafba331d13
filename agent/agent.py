"""The Agent: a model, the tools it may use, and how it is told to work."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.llm import LLM
from agent.mcp.config import McpServers, ToolApproval
from agent.tools.registry import Tool

DEFAULT_SYSTEM_PROMPT = """\
You are a careful software engineer working inside a Linux container. Your working \
folder is /workspace: the user's files are there, and everything you create should go \
there unless asked otherwise.

Use the tools to act: `bash` runs a command in a persistent shell (cd, variables and \
background jobs persist; send input to a running program with is_input=true); \
`file_editor` views, creates and edits files by absolute path. Work in small steps and \
check the result of each one. The user may pause you, look at the files and send a \
correction: the newest user message always takes precedence over earlier instructions.

When the task is done, call `finish` with a short summary of what you did (or reply \
with that summary and no tool call)."""


class Agent(BaseModel):
    """What the conversation runs: ``Agent(llm=llm, tools=[Tool(name="BashTool"), ...])``."""

    llm: LLM
    tools: list[Tool] = Field(default_factory=list)
    system_prompt: str | None = None
    # Summarises older steps when the history nears the context window; None: ``llm``.
    # A cheaper model does it as well (the summary is notes, not code).
    condensation_llm: LLM | None = None
    # MCP servers by name (the ``mcpServers`` shape); a ``.mcp.json`` at the root of
    # /workspace adds its own when the conversation starts (these win on a clash).
    mcp_servers: McpServers = Field(default_factory=dict)
    # Per tool, by the name the model sees (``<server>__<tool>``): allow, ask or never.
    # A tool not listed gets its default (agent.mcp.config.default_approval).
    mcp_approvals: dict[str, ToolApproval] = Field(default_factory=dict)

    def summariser(self) -> LLM:
        return self.condensation_llm or self.llm

    def effective_system_prompt(self) -> str:
        return self.system_prompt or DEFAULT_SYSTEM_PROMPT
