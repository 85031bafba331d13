"""A conversation that used MCP servers, as its events say it (no server needed): the
servers' status (git ready with its tools, a failed one) and calls of git's tools. For the
MCP GUI tests and docs/mcp_screenshot.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.events import (
    ActionEvent,
    Event,
    McpServersEvent,
    MessageEvent,
    ObservationEvent,
    StatusEvent,
)
from agent.mcp.config import McpServerState, McpServerStatus, McpToolInfo
from agent.status import AgentStatus

_START = datetime(2026, 12, 3, 16, 20, tzinfo=UTC)
READ_ONLY = {"readOnlyHint": True}
# The reference mcp-server-git's tools (its annotations as of 2025: none; two marked here
# so the defaults differ).
GIT_TOOLS = [
    McpToolInfo(
        name="git_status", description="Shows the working tree status", annotations=READ_ONLY
    ),
    McpToolInfo(
        name="git_diff_unstaged",
        description="Shows changes in the working directory that are not yet staged",
        annotations=READ_ONLY,
    ),
    McpToolInfo(name="git_add", description="Adds file contents to the staging area"),
    McpToolInfo(name="git_commit", description="Records changes to the repository"),
    McpToolInfo(
        name="git_reset",
        description="Unstages all staged changes",
        annotations={"destructiveHint": True},
    ),
]
FAILED_ERROR = (
    "The server did not answer initialize within 60 s.\n"
    "stderr: npm ERR! code E404\n"
    "stderr: npm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2fmcp-jira"
)


def servers_event(at: int = 1) -> McpServersEvent:
    """git ready with its five tools, jira failed (its stderr's last lines said)."""
    return McpServersEvent(
        timestamp=_START + timedelta(seconds=at),
        servers=[
            McpServerStatus(
                name="git", transport="stdio", state=McpServerState.READY, tools=GIT_TOOLS
            ),
            McpServerStatus(
                name="jira", transport="stdio", state=McpServerState.FAILED, error=FAILED_ERROR
            ),
        ],
    )


def mcp_call(
    call_id: str, tool: str, arguments: dict[str, object], at: int, count: int | None = None
) -> ActionEvent:
    return ActionEvent(
        timestamp=_START + timedelta(seconds=at),
        tool_call_id=call_id,
        tool_name=tool,
        arguments=arguments,
        request_event_count=count,
    )


def mcp_result(call_id: str, tool: str, content: str, at: int, error: bool = False) -> Event:
    return ObservationEvent(
        timestamp=_START + timedelta(seconds=at),
        tool_call_id=call_id,
        tool_name=tool,
        content=content,
        is_error=error,
    )


GIT_STATUS = """\
On branch main
Changes not staged for commit:
  (use "git add <file>..." to update what will be committed)
\tmodified:   app/totals.py

Untracked files:
  (use "git add <file>..." to include in what will be committed)
\tnotes/rounding.md
"""


def mcp_events() -> list[Event]:
    """A short session: the servers start, git_status, a commit that fails, the answer."""
    message = "Commit the rounding fix with a clear message, then tell me what is left."
    commit_message = (
        "Round totals half-up to cents\n\nFloat sums drifted by a cent on large carts; "
        "totals now go through Decimal and round half-up, as the invoices do. " * 3
    ).strip()
    return [
        MessageEvent(timestamp=_START, role="user", text=message),
        StatusEvent(timestamp=_START, status=AgentStatus.RUNNING),
        servers_event(),
        mcp_call("s1", "git__git_status", {"repo_path": "/workspace"}, 3, count=4),
        mcp_result("s1", "git__git_status", f"Repository status:\n{GIT_STATUS}", 4),
        mcp_call(
            "c1",
            "git__git_commit",
            {"repo_path": "/workspace", "message": commit_message},
            6,
            count=6,
        ),
        mcp_result(
            "c1",
            "git__git_commit",
            "Error executing tool git_commit: nothing added to commit but untracked files "
            'present (use "git add" to track)',
            7,
            error=True,
        ),
        MessageEvent(
            timestamp=_START + timedelta(seconds=9),
            role="assistant",
            text="Nothing was staged, so the commit failed: I will `git_add` "
            "`app/totals.py` first and commit again.",
            request_event_count=8,
        ),
    ]
