"""A conversation's MCP servers, as the loop sees them: started in the background when the
conversation opens (the Agent's servers and those of /workspace/.mcp.json), waited for
before the first step of a run, said in one McpServersEvent, and offered to the model as
tools (all of them, or the compact list and ``find_tools`` past the budget).

The rules of a call (approval, pause, stop) are in loop.py; the protocol in agent/mcp/.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from agent import background
from agent.events import McpServersEvent, NoticeEvent
from agent.mcp.config import (
    McpConfigError,
    McpServerConfig,
    McpServerStatus,
    ToolApproval,
    parse_mcp_json,
)
from agent.mcp.tools import SCHEMA_BUDGET, FindTools, McpTool

if TYPE_CHECKING:
    from agent.agent import Agent
    from agent.context.window import ContextWindow
    from agent.conversation.engine import Engine
    from agent.mcp.servers import McpServers

log = logging.getLogger(__name__)

MCP_JSON = "/workspace/.mcp.json"
MCP_JSON_LIMIT = 1024 * 1024

McpToolLike = McpTool | FindTools
# What the model providers take as a tool's name (OpenAI's rule; others are looser).
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class McpKeeper:
    """Starts, offers and ends one conversation's MCP servers."""

    def __init__(self, engine: Engine, agent: Agent, window: ContextWindow) -> None:
        self._e = engine
        self._agent = agent
        self._window = window
        self._servers: McpServers | None = None
        self._started = threading.Event()
        self._said = False  # the McpServersEvent of this start is recorded
        self.tools: dict[str, McpToolLike] = {}  # by the name the model calls
        self.schemas: list[dict[str, Any]] = []  # what the model is given
        self.compact = False

    def start(self) -> None:
        """Read .mcp.json and start every server, in the background."""
        background.start(f"mcp-start-{background.conversation_tag(self._e.id)}", self._start,
                         daemon=True)  # fmt: skip

    def _start(self) -> None:
        try:
            configs, from_workspace = self._configs()
            if configs:
                from agent.mcp.servers import McpServers  # the SDK, once a server is named

                self._wait_for_thaw()
                if self._e.closed:
                    return
                self._servers = McpServers(
                    configs,
                    dict(self._agent.mcp_approvals),
                    self._e.workspace,
                    on_change=self._changed,
                    thread_name=f"mcp-{background.conversation_tag(self._e.id)}",
                    from_workspace=from_workspace,
                )
                # Approvals set while it was made (set_approvals) are not lost.
                self._servers.set_approvals(self._agent.mcp_approvals)
                self._servers.start()
                self._servers.wait_started()
        except Exception as exc:  # never the end of the conversation
            log.exception("the MCP servers could not start")
            self._notice("MCP servers not started", str(exc))
        finally:
            self._started.set()

    def _wait_for_thaw(self) -> None:
        """A container found frozen (a paused conversation reopened) takes no exec: its
        servers start when the run thaws it."""
        while self._e.workspace.frozen and not self._e.closed:
            time.sleep(0.1)

    def set_approvals(self, approvals: dict[str, ToolApproval]) -> None:
        """The user's word per tool, from the next call on (Settings saved while the
        conversation is open); a call already waiting for approval keeps waiting."""
        self._agent.mcp_approvals = dict(approvals)
        servers = self._servers
        if servers is not None:
            servers.set_approvals(approvals)

    def statuses(self) -> list[McpServerStatus]:
        servers = self._servers
        return servers.statuses() if servers is not None else []

    def _configs(self) -> tuple[dict[str, McpServerConfig], frozenset[str]]:
        """The servers, and the names of those that come from .mcp.json (the agent can
        write it: see agent/mcp/reach.py)."""
        configs: dict[str, McpServerConfig] = {}
        try:
            raw = self._e.workspace.read_bytes(MCP_JSON, MCP_JSON_LIMIT)
        except FileNotFoundError:
            raw = None
        except Exception as exc:
            self._notice(".mcp.json not read", f"{MCP_JSON} could not be read: {exc}")
            raw = None
        if raw is not None:
            try:
                configs = parse_mcp_json(raw.decode("utf-8", "replace"), MCP_JSON)
            except McpConfigError as exc:
                self._notice(".mcp.json ignored", f"{exc}. Its servers are not started.")
        from_workspace = frozenset(configs) - set(self._agent.mcp_servers)
        configs.update(self._agent.mcp_servers)  # the Agent's own win on a clash
        return configs, from_workspace

    def _notice(self, title: str, text: str) -> None:
        try:
            self._e.record(NoticeEvent(title=title, text=text, source="mcp"))
        except Exception:
            log.exception("an MCP notice could not be recorded")

    def _changed(self, statuses: list[McpServerStatus]) -> None:
        if self._said:
            self._e.record(McpServersEvent(servers=statuses))

    # -- the loop's side -------------------------------------------------------------------

    def wait_started(self, cancel: threading.Event) -> None:
        """Block until every server is ready or failed (or ``cancel``)."""
        while not self._started.wait(0.1):
            if cancel.is_set():
                return

    @property
    def started(self) -> bool:
        return self._started.is_set()

    def offer(self) -> bool:
        """Once started: record the servers' statuses (once) and build the tools. True the
        first time, when the loop must take the new tool list."""
        servers = self._servers
        if self._said or servers is None:
            return False
        self._said = True
        self._e.record(McpServersEvent(servers=servers.statuses()))
        tools = [McpTool(servers, server, info) for server, info in servers.tools()]
        unnamed = [tool.name for tool in tools if not TOOL_NAME.match(tool.name)]
        if unnamed:  # a provider refuses a whole request for one such name
            shown = ", ".join(unnamed[:10]) + (", ..." if len(unnamed) > 10 else "")
            self._notice(
                f"{len(unnamed)} MCP tool{'s' if len(unnamed) != 1 else ''} left out",
                f"Tool names may hold only letters, digits, '_' and '-', 64 at most: {shown}",
            )
            tools = [tool for tool in tools if tool.name not in unnamed]
        self.tools = {tool.name: tool for tool in tools}
        schemas = [tool.openai_schema() for tool in tools]
        if schemas and self._over_budget(schemas):
            finder = FindTools(tools)
            self.tools[finder.name] = finder
            self.schemas = [finder.openai_schema()]
            self.compact = True
        else:
            self.schemas = schemas
        return True

    def approval(self, name: str) -> ToolApproval | None:
        """A server's tool: allow, ask or never (None: not an MCP server's tool)."""
        tool = self.tools.get(name)
        return tool.approval if isinstance(tool, McpTool) else None

    def _over_budget(self, schemas: list[dict[str, Any]]) -> bool:
        text = json.dumps(schemas, ensure_ascii=False)
        tokens = self._window.llm.count_tokens([{"role": "system", "content": text}])
        return tokens > self._window.window * SCHEMA_BUDGET

    def close(self) -> None:
        """End the servers; a start still under way ends them as they come (the engine is
        closed first, and the container stops after)."""
        self._started.wait(1.0)
        servers = self._servers
        if servers is not None:
            servers.close()
