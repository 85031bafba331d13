"""Small MCP servers for the tests, written with the mcp SDK's MCPServer (FastMCP in 1.x),
and helpers to put them in a container or run them on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A stdio server whose `crash` tool ends its process mid-call (after a line on stderr).
CRASHING = textwrap.dedent(
    '''
    import os, sys
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

    app = MCPServer("crashy")

    @app.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def echo(text: str) -> str:
        """Say the text back."""
        return "echo: " + text

    @app.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def crash() -> str:
        """End the server's process."""
        print("crashy: going down on purpose", file=sys.stderr, flush=True)
        os._exit(7)

    app.run()
    '''
)

# A stdio server with tools of every approval: read-only, destructive, and one that says
# nothing; and a tool that sleeps (to be caught mid-call).
APPROVALS = textwrap.dedent(
    '''
    import time
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

    app = MCPServer("notes")

    @app.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def read_note() -> str:
        """Read the note."""
        return open("/workspace/note.txt").read() if __import__("os").path.exists(
            "/workspace/note.txt") else "(no note)"

    @app.tool(annotations=ToolAnnotations(destructiveHint=True))
    def write_note(text: str) -> str:
        """Write the note."""
        open("/workspace/note.txt", "w").write(text)
        return "written"

    @app.tool()
    def slow(seconds: float) -> str:
        """Sleep, then answer."""
        with open("/tmp/slow-calls", "a") as calls:  # the tests see that the call came
            calls.write("x")
        time.sleep(seconds)
        return "slept"

    app.run()
    '''
)


def many_tools_server(count: int) -> str:
    """A stdio server with ``count`` tools, each with a long description (and one whose
    name has a dot)."""
    return textwrap.dedent(
        f"""
        from mcp.server.mcpserver import MCPServer
        from mcp_types import ToolAnnotations

        app = MCPServer("big")
        for number in range({count}):
            def tool(value: str, number: int = number) -> str:
                return f"tool {{number}} got {{value}}"
            app.add_tool(
                tool,
                name=f"tool_{{number}}",
                description=f"Tool number {{number}}: " + "it does a thing. " * 30,
                annotations=ToolAnnotations(readOnlyHint=True),
            )
        # A name MCP allows and the model providers do not.
        app.add_tool(lambda: "dotted", name="search.files", description="Has a dot.")
        app.run()
        """
    )


def http_server_script(
    port: int, host: str = "127.0.0.1", tls: tuple[str, str] | None = None
) -> str:
    """The "weather" server: ``forecast``, and ``key``, which answers the SHA-256 of the
    Authorization header it got (so a secret's value is never said back in clear). With
    ``tls`` (certificate and key files), over HTTPS."""
    run = f'app.run("streamable-http", host="{host}", port={port})'
    if tls is not None:
        run = (
            f'import uvicorn; uvicorn.run(app.streamable_http_app(host="{host}"), host="{host}", '
            f'port={port}, ssl_certfile="{tls[0]}", ssl_keyfile="{tls[1]}", log_level="warning")'
        )
    return (
        textwrap.dedent(
            '''
        import hashlib
        from mcp.server.mcpserver import Context, MCPServer
        from mcp_types import ToolAnnotations

        app = MCPServer("weather")

        @app.tool(annotations=ToolAnnotations(readOnlyHint=True))
        def forecast(city: str) -> str:
            """Tomorrow's weather for a city."""
            return f"Sunny in {city}, 21 degrees"

        @app.tool(annotations=ToolAnnotations(readOnlyHint=True))
        def key(ctx: Context) -> str:
            """The hash of the Authorization header this request came with."""
            request = ctx.request_context.request
            given = request.headers.get("authorization", "") if request is not None else ""
            return "key-sha256=" + hashlib.sha256(given.encode()).hexdigest()

        '''
        )
        + run
        + "\n"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def http_server(
    tmp_path: Path, host: str = "127.0.0.1", tls: tuple[str, str] | None = None
) -> Iterator[str]:
    """A streamable-HTTP MCP server on ``host`` (127.0.0.1, or the engine's bridge gateway
    for a conversation's proxy to reach) in a subprocess; yields its URL. ``tls``: its
    certificate and key files, for HTTPS."""
    port = free_port()
    script = tmp_path / "weather_server.py"
    script.write_text(http_server_script(port, host, tls))
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection((host, port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                err = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"the HTTP MCP server did not start: {err[-2000:]}")
            time.sleep(0.05)
        yield f"{'https' if tls else 'http'}://{host}:{port}/mcp"
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        if process.poll() is None:
            process.kill()


def put_script(workspace: Any, name: str, text: str) -> str:
    """Copy a server script into the container (archive API); its path there."""
    path = f"/opt/{name}"
    workspace.write_bytes(path, text.encode())
    return path


def freezer_state(host_pid: int) -> str:
    """The state of the cgroup freezer that holds ``host_pid`` (this engine is local):
    "FROZEN"/"THAWED" (cgroup v1) or "frozen"/"thawed" (v2)."""
    lines = Path(f"/proc/{host_pid}/cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "freezer" in controllers.split(","):
            return Path(f"/sys/fs/cgroup/freezer{path}/freezer.state").read_text().strip()
    for line in lines:
        if line.startswith("0::"):
            events = Path(f"/sys/fs/cgroup{line[3:]}/cgroup.events").read_text()
            return "frozen" if "frozen 1" in events else "thawed"
    raise AssertionError(f"no freezer cgroup for pid {host_pid}: {lines}")


def in_other_pid_namespace(host_pid: int) -> bool:
    return os.readlink(f"/proc/{host_pid}/ns/pid") != os.readlink("/proc/self/ns/pid")


# A stdio server whose `screenshot` tool returns a text and a PNG (drawn here: the test
# image has no imaging library), and `huge` an image over the cap.
IMAGES = textwrap.dedent(
    '''
    import struct, zlib
    from mcp.server.mcpserver import Image, MCPServer
    from mcp_types import ToolAnnotations

    app = MCPServer("pics")

    def png(width, height):
        rows = b"".join(
            b"\\x00" + bytes(
                value
                for x in range(width)
                for value in (40 + x * 200 // width, 90 + y * 150 // height, 200)
            )
            for y in range(height)
        )
        def chunk(kind, data):
            crc = zlib.crc32(kind + data) & 0xFFFFFFFF
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

    @app.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def screenshot() -> list:
        """A picture of the screen."""
        return ["The screen, 96x64:", Image(data=png(96, 64), format="png")]

    @app.tool(annotations=ToolAnnotations(readOnlyHint=True))
    def huge() -> list:
        """A picture too big to send."""
        return [Image(data=b"\\x89PNG" + bytes(6 * 1024 * 1024), format="png")]

    app.run()
    '''
)
