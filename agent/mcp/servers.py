"""A conversation's MCP servers: started, asked, watched and ended with the `mcp` SDK.

The SDK is async; the engine is not. One asyncio loop runs on a thread of its own per
conversation, and the engine calls into it synchronously (``call``). Each server lives in
one task (``_serve``), which holds its session's context from start to end, as anyio's
scopes require. A stdio server runs in the conversation's container over an attached exec
(sandbox.AttachedProcess); an HTTP one is reached from this machine, through the
conversation's proxy when it has an allow-list (agent/mcp/http_client.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, Implementation

from agent import background
from agent.mcp import config as mcp_config
from agent.mcp import reach
from agent.mcp.config import McpServerState, McpServerStatus, McpToolInfo, ToolApproval
from agent.mcp.errors import McpCallAbandoned, McpCallError
from agent.mcp.http_client import ProxyAnswer, http_client
from agent.mcp.transport import process_streams

if TYPE_CHECKING:
    from sandbox import AttachedProcess, DockerWorkspace

log = logging.getLogger(__name__)

CLIENT_INFO = Implementation(name="berth", version="1")
STDERR_SHOWN = 12  # lines of a failed server's stderr in its status


class _Server:
    def __init__(self, name: str, config: mcp_config.McpServerConfig) -> None:
        self.name = name
        self.config = config
        self.status = McpServerStatus(
            name=name, transport=config.transport, state=McpServerState.STARTING
        )
        self.session: ClientSession | None = None
        self.process: AttachedProcess | None = None
        self.stop: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None
        self.started = threading.Event()  # ready or failed, once per start
        self.died = False  # it was ready, then ended: the next call starts it again
        # Its container is gone: the call says so, and the loop brings the container back.
        self.gone: Exception | None = None
        self.proxy_answer: ProxyAnswer | None = None  # an HTTP server's, through the proxy


class McpServers:
    """The servers of one conversation. ``start()`` returns at once; ``wait_started()``
    blocks until each is ready or failed. ``on_change`` hears of a server that died or came
    back (from the loop's thread). ``from_workspace``: the servers named in .mcp.json."""

    def __init__(
        self,
        configs: dict[str, mcp_config.McpServerConfig],
        approvals: dict[str, ToolApproval],
        workspace: DockerWorkspace,
        on_change: Callable[[list[McpServerStatus]], None] | None = None,
        thread_name: str = "mcp",
        from_workspace: frozenset[str] = frozenset(),
    ) -> None:
        self._servers = {name: _Server(name, config) for name, config in configs.items()}
        self._approvals = approvals
        self._from_workspace = from_workspace  # named in .mcp.json, which the agent can write
        self._workspace = workspace
        self.on_change = on_change
        self._loop = asyncio.new_event_loop()
        self._closed = False
        self._restart_lock = threading.Lock()
        if self._servers:  # a reader of pipes, abandoned at exit: daemon
            background.start(thread_name, self._loop.run_forever, daemon=True)

    # -- reading ---------------------------------------------------------------------------

    def __bool__(self) -> bool:
        return bool(self._servers)

    def statuses(self) -> list[McpServerStatus]:
        return [server.status for server in self._servers.values()]

    def tools(self) -> list[tuple[str, McpToolInfo]]:
        """``(server, tool)`` of every ready server, in the servers' order."""
        return [
            (server.name, tool)
            for server in self._servers.values()
            if server.status.state is McpServerState.READY
            for tool in server.status.tools
        ]

    def set_approvals(self, approvals: dict[str, ToolApproval]) -> None:
        """The user's word per tool from the next call on (any thread: one assignment)."""
        self._approvals = dict(approvals)

    def approval(self, tool: McpToolInfo, server: str) -> ToolApproval:
        """The user's word for this tool, else its default (from its annotations as
        listed at start, so a server that died does not change it)."""
        return self._approvals.get(mcp_config.qualified_tool_name(server, tool.name), tool.approval)

    # -- start and end ---------------------------------------------------------------------

    def start(self) -> None:
        for server in self._servers.values():
            self._launch(server)

    def wait_started(self, timeout: float | None = None) -> bool:
        """True once every server is ready or failed."""
        return all(server.started.wait(timeout) for server in self._servers.values())

    def close(self) -> None:
        """End every server (a stdio one's process too) and the loop. Idempotent."""
        if self._closed or not self._servers:
            return
        self._closed = True

        async def stop_all() -> None:
            for server in self._servers.values():
                if server.stop is not None:
                    server.stop.set()
                if server.session is None and server.task is not None:
                    server.task.cancel()  # still starting: no waiting for its timeout
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if tasks:
                await asyncio.wait(tasks, timeout=5)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop_all(), self._loop).result(timeout=8)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _launch(self, server: _Server) -> None:
        server.started.clear()
        server.status = server.status.model_copy(
            update={"state": McpServerState.STARTING, "error": ""}
        )
        asyncio.run_coroutine_threadsafe(self._serve(server), self._loop)

    # -- one server's life (on the loop) ---------------------------------------------------

    async def _serve(self, server: _Server) -> None:
        server.stop = asyncio.Event()
        server.task = asyncio.current_task()
        config = server.config
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await self._connect(server, stack)
                session = await stack.enter_async_context(
                    ClientSession(read, write, client_info=CLIENT_INFO)
                )
                try:
                    tools = await asyncio.wait_for(
                        self._handshake(server, session), config.start_timeout_s
                    )
                except TimeoutError:
                    raise McpCallError(
                        f"did not answer initialize and tools/list within "
                        f"{config.start_timeout_s:g} s"
                    ) from None
                server.session = session
                server.status = McpServerStatus(
                    name=server.name,
                    transport=config.transport,
                    state=McpServerState.READY,
                    tools=tools,
                )
                server.started.set()
                ended = await self._until_stopped_or_dead(server)
                server.session = None
                if ended:
                    server.died = True
                    self._fail(server, self._ended_text(server))
                    self._tell()
        except Exception as exc:  # each failure is this server's alone: the others go on
            server.session = None
            if type(exc).__name__ == "ContainerGoneError":
                server.gone, server.died = exc, True
            answer, url = server.proxy_answer, config.url
            if answer is not None and url is not None:
                with contextlib.suppress(Exception):  # the reason is a nicety, never a crash
                    await anyio.to_thread.run_sync(lambda: answer.look_up(url, self._workspace))
            self._fail(server, self._why(server, exc))
        finally:
            server.session = None
            if server.status.state is McpServerState.STARTING:
                self._fail(server, "did not start")
            server.started.set()

    async def _connect(self, server: _Server, stack: contextlib.AsyncExitStack) -> Any:
        config = server.config
        if config.command:
            argv = [config.command, *config.args]
            process = await anyio.to_thread.run_sync(
                lambda: self._workspace.run_attached(
                    argv, environment=config.env, tag=f"mcp-{server.name}"
                )
            )
            server.process = process
            stack.push_async_callback(
                anyio.to_thread.run_sync, lambda: process.close(frozen=self._workspace.frozen)
            )
            return await stack.enter_async_context(process_streams(process))
        assert config.url is not None
        url, untrusted = config.url, server.name in self._from_workspace
        refused = await anyio.to_thread.run_sync(
            lambda: reach.refusal(url, self._workspace.network, untrusted)
        )
        if refused:
            raise McpCallError(refused)
        server.proxy_answer = answer = ProxyAnswer()
        made = await anyio.to_thread.run_sync(
            lambda: http_client(url, config.headers, self._workspace, answer)
        )
        client = await stack.enter_async_context(made)
        return await stack.enter_async_context(
            streamable_http_client(config.url, http_client=client)
        )

    async def _handshake(self, server: _Server, session: ClientSession) -> list[McpToolInfo]:
        await session.initialize()
        tools: list[McpToolInfo] = []
        cursor: str | None = None
        while True:
            params = {"cursor": cursor} if cursor else None
            listed = await session.list_tools(params=params)  # type: ignore[arg-type]
            for tool in listed.tools:
                annotations = (
                    tool.annotations.model_dump(by_alias=True, exclude_none=True)
                    if tool.annotations
                    else {}
                )
                tools.append(
                    McpToolInfo(
                        name=tool.name,
                        description=tool.description or "",
                        input_schema=dict(tool.input_schema or {"type": "object"}),
                        annotations=annotations,
                        approval=mcp_config.default_approval(annotations),
                    )
                )
            cursor = listed.next_cursor
            if not cursor:
                return tools

    async def _until_stopped_or_dead(self, server: _Server) -> bool:
        """True when the server ended on its own (its process died)."""
        assert server.stop is not None
        waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(server.stop.wait())}
        process = server.process
        if process is not None:
            waits.add(
                asyncio.ensure_future(
                    anyio.to_thread.run_sync(lambda: process.wait(), abandon_on_cancel=True)
                )
            )
        _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return not server.stop.is_set()

    def _fail(self, server: _Server, error: str) -> None:
        server.status = server.status.model_copy(
            update={"state": McpServerState.FAILED, "error": error, "tools": []}
        )
        log.info("MCP server %s failed: %s", server.name, error)

    def _why(self, server: _Server, exc: BaseException) -> str:
        reasons = "; ".join(_reasons(exc))
        url = server.config.url
        refusal = server.proxy_answer.refusal if server.proxy_answer is not None else ""
        if refusal:  # its 403 names the host and how to allow it; the SDK's error does not
            reasons = f"the conversation's network proxy refused it: {refusal}"
        if url and not isinstance(exc, McpCallError):  # "All connection attempts failed"
            reasons = f"{url}: {reasons}"
        return self._with_stderr(server, reasons)

    def _ended_text(self, server: _Server) -> str:
        process = server.process
        code = process.exit_code() if process is not None else None
        said = f"the server ended (exit code {code})" if code is not None else "the server ended"
        return self._with_stderr(server, said)

    def _with_stderr(self, server: _Server, text: str) -> str:
        process = server.process
        tail = process.stderr_tail(STDERR_SHOWN).strip() if process is not None else ""
        return f"{text}\nIts stderr ended with:\n{tail}" if tail else text

    def _tell(self) -> None:
        if self.on_change is not None and not self._closed:
            try:
                self.on_change(self.statuses())
            except Exception:
                log.exception("an MCP status callback failed")

    # -- calls (any thread but the loop's) -------------------------------------------------

    def call(
        self, server_name: str, tool: str, arguments: dict[str, Any], cancel: threading.Event
    ) -> CallToolResult:
        """The server's result. McpCallError when it gave none; McpCallAbandoned when
        ``cancel`` was set first (the request is cancelled; the server runs on);
        ContainerGoneError when its container is gone."""
        server = self._servers.get(server_name)
        if server is None:
            raise McpCallError(f"there is no MCP server {server_name!r}")
        self._restart_if_died(server)
        session = server.session
        if session is None and server.gone is not None:
            gone, server.gone = server.gone, None
            raise gone  # not a failed call: the loop brings the container back
        if session is None:
            raise McpCallError(
                f"the MCP server {server_name!r} is not running: {server.status.error}"
            )
        future = asyncio.run_coroutine_threadsafe(session.call_tool(tool, arguments), self._loop)
        done = threading.Event()
        future.add_done_callback(lambda _f: done.set())
        while not done.wait(0.1):
            if cancel.is_set():
                future.cancel()
                raise McpCallAbandoned()
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise McpCallAbandoned() from None
        except MCPError as exc:
            process = server.process
            if process is not None and process.wait(2):
                raise McpCallError(self._ended_text(server)) from exc
            raise McpCallError(f"the server answered with an error: {exc}") from exc
        except Exception as exc:
            raise McpCallError(self._why(server, exc)) from exc

    def _restart_if_died(self, server: _Server) -> None:
        """A stdio server whose process is gone (it crashed, or the container was made
        again) is started once more, and said to have come back (or not)."""
        with self._restart_lock:
            if not server.died or self._closed:
                return
            server.died = False
            self._launch(server)
        server.started.wait(server.config.start_timeout_s + 5)
        self._tell()


def _reasons(exc: BaseException) -> list[str]:
    """What went wrong, out of the task groups' exception groups that wrap it."""
    if isinstance(exc, BaseExceptionGroup):
        return [reason for inner in exc.exceptions for reason in _reasons(inner)]
    return [str(exc) or type(exc).__name__]
