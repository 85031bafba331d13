"""The MCP SDK's stream pair over a process attached in the container.

The SDK's own ``stdio_client`` starts a process on this machine; a Berth server runs in
the conversation's container instead (sandbox.AttachedProcess), so its stdout and stdin
are bridged here to the memory object streams of ``SessionMessage`` that ``ClientSession``
reads and writes: one JSON-RPC message a line, as the stdio transport says.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
import mcp_types
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage

if TYPE_CHECKING:
    from sandbox import AttachedProcess

# A line longer than this is no message a client should hold in memory.
MAX_LINE = 32 * 1024 * 1024


def _parse(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:  # the session hears of it; the server goes on
        return exc


@contextlib.asynccontextmanager
async def process_streams(process: AttachedProcess) -> AsyncIterator[TransportStreams]:
    """``(read_stream, write_stream)`` for ``ClientSession`` over ``process``; the read
    stream ends when the process does (pending requests then fail: connection closed)."""
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)

    async def stdout_reader() -> None:
        buffer = b""
        async with read_writer:
            while True:
                data = await anyio.to_thread.run_sync(process.read, abandon_on_cancel=True)
                if not data:
                    return
                *lines, buffer = (buffer + data).split(b"\n")
                if len(buffer) > MAX_LINE:
                    await read_writer.send(ValueError("a message over 32 MiB was dropped"))
                    buffer = b""
                for line in lines:
                    if line.strip():
                        with contextlib.suppress(anyio.ClosedResourceError):
                            await read_writer.send(_parse(line))

    async def stdin_writer() -> None:
        async with write_reader:
            async for message in write_reader:
                text = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                try:
                    await anyio.to_thread.run_sync(process.write, (text + "\n").encode())
                except OSError:
                    await read_writer.aclose()
                    return

    async with anyio.create_task_group() as group:
        group.start_soon(stdout_reader)
        group.start_soon(stdin_writer)
        try:
            yield read_stream, write_stream
        finally:
            group.cancel_scope.cancel()
