"""How the network door's proxy relays a tunnel it passes through (HTTPS to a host with no
secret), once addon.py has checked and pinned its address. Copied into the proxy's
container beside addon.py; it imports nothing of Berth.

mitmproxy's own relay reads 64 KiB at a time and takes each chunk through its layers and
event loop: its CPU and wake-ups, on a busy machine, cost a download a third of its speed.
Here both sockets are handed to two threads moving the bytes socket -> pipe -> socket with
splice(2), no copy through Python. Bytes are counted in ``tunnel["berth_bytes"]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any


def layer_for(context: Any, tunnel: dict[str, Any], done: Callable[[str], None]) -> Any:
    """The layer relaying this tunnel: spliced, or (no splice, too many at once, streams
    that are not asyncio's) mitmproxy's TCP layer. ``done(reason)`` once it has ended."""
    handler = _handler_of(context)
    if handler is not None and Splice.running < Splice.MOST:
        return _spliced_layer()(context, tunnel, done, handler)
    return _passthrough_layer()(context, tunnel, done)


def _handler_of(context: Any) -> Any | None:
    """mitmproxy's handler of this connection, when both its sockets can be handed over to
    a `Splice` (plain asyncio streams, the server already connected: the default "eager"
    strategy opens it at the CONNECT, to the pinned address)."""
    from mitmproxy import ctx  # type: ignore[import-not-found]

    server = ctx.master.addons.get("proxyserver")
    handler = getattr(server, "connections", {}).get(context.client.id)
    if handler is None or not hasattr(os, "splice"):
        return None
    for connection in (context.client, context.server):
        io = handler.transports.get(connection)
        if io is None or not isinstance(io.writer, asyncio.StreamWriter):
            return None
        if not isinstance(io.reader, asyncio.StreamReader):
            return None
    return handler


class Splice:
    """A tunnel's two directions, a pump (a thread of `Pumps`) each."""

    CHUNK = 1 << 20
    # Two threads each: beyond these (the proxy's container may have 256 processes)
    # tunnels go through mitmproxy's own relay.
    MOST = 64
    running = 0

    def __init__(self, tunnel: dict[str, Any]) -> None:
        self.tunnel = tunnel
        self.moved = [0, 0]
        self.socks: list[socket.socket] = []
        self.stopped = False

    async def run(
        self, socks: list[socket.socket], early: list[bytes], activity: Callable[[], None]
    ) -> None:
        """Until both directions end; ``early``: what each side sent before, to pass on."""
        self.socks, base = socks, self.tunnel["berth_bytes"]
        loop = asyncio.get_running_loop()
        ends = [loop.create_future(), loop.create_future()]
        if self.stopped:
            self.stop()
            return
        for sock in socks:  # the threads wait in the kernel, not in a loop
            sock.setblocking(True)
        started: list[asyncio.Future[None]] = []
        try:
            for index in (0, 1):
                pump = functools.partial(
                    self._pump, index, early[index], base, activity, loop, ends[index]
                )
                _pumps().submit(pump)
                started.append(ends[index])
        except RuntimeError as exc:  # no thread to be had: the one started ends first
            self.stop()
            await asyncio.gather(*started)
            raise OSError(f"no thread for it: {exc}") from exc
        await asyncio.gather(*ends)

    def _pump(
        self,
        index: int,
        early: bytes,
        base: int,
        activity: Callable[[], None],
        loop: asyncio.AbstractEventLoop,
        end: asyncio.Future[None],
    ) -> None:
        source, sink = self.socks[index], self.socks[1 - index]
        out, into = os.pipe()
        try:
            with contextlib.suppress(OSError):  # a larger pipe: fewer calls; the default works
                fcntl.fcntl(into, fcntl.F_SETPIPE_SZ, self.CHUNK)
            if early:
                sink.sendall(early)
            while moved := os.splice(source.fileno(), into, self.CHUNK):
                self.moved[index] += moved
                self.tunnel["berth_bytes"] = base + sum(self.moved)
                activity()
                while moved:
                    moved -= os.splice(out, sink.fileno(), moved)
            sink.shutdown(socket.SHUT_WR)  # the end passes on; the other way may go on
        except OSError:
            self.stop()  # a reset or a broken pipe: the tunnel is over both ways
        finally:
            os.close(out)
            os.close(into)
            loop.call_soon_threadsafe(_settle, end)

    def stop(self) -> None:
        """Wakes both threads (a shutdown reaches a socket's every descriptor)."""
        self.stopped = True
        for sock in self.socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Pumps:
    """Threads kept for the next tunnels' pumps: starting one waits until it runs, which on
    a busy machine held the event loop some 3 ms a tunnel. Daemons: they may be waiting in
    splice when the proxy stops."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.idle = 0
        self.lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self.lock:
            start = self.idle == 0
            self.idle -= 0 if start else 1
        if start:
            threading.Thread(target=self._work, daemon=True).start()
        self.jobs.put(job)

    def _work(self) -> None:
        while True:
            self.jobs.get()()
            with self.lock:
                self.idle += 1


@functools.cache
def _pumps() -> Pumps:
    return Pumps()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@functools.cache
def _spliced_layer() -> Any:
    """A passed-through tunnel's layer: at its start mitmproxy stops reading both sockets
    and a `Splice` takes them over (what mitmproxy had read is passed on first); when both
    sides have closed, or the relay failed, ``done(reason)`` and mitmproxy closes the
    connection. mitmproxy's inactivity timeout still holds (each chunk counts as activity)
    and its ending the connection ends the relay."""
    from mitmproxy.proxy import events, layer  # type: ignore[import-not-found]

    class Spliced(layer.Layer):
        def __init__(self, context: Any, tunnel: dict[str, Any], done: Any, handler: Any):
            super().__init__(context)
            self.tunnel, self.on_done, self.handler = tunnel, done, handler
            self.sides = (context.client, context.server)
            self.early: dict[Any, list[bytes]] = {side: [] for side in self.sides}
            self.splice = Splice(tunnel)
            Splice.running += 1
            self.task: asyncio.Task[None] | None = None
            self.handed = False  # the sockets are the pumps' now

        def _handle_event(self, event: Any) -> Any:
            if isinstance(event, events.Start):
                for side in self.sides:
                    self.handler.transports[side].writer.transport.pause_reading()
                self.task = asyncio.get_running_loop().create_task(self._run())
            elif isinstance(event, events.DataReceived):
                if self.handed:  # never expected: better a cut tunnel than bytes lost
                    self.splice.stop()
                self.early[event.connection].append(event.data)
                self.tunnel["berth_bytes"] += len(event.data)
            elif isinstance(event, events.ConnectionClosed):
                self.splice.stop()
            yield from ()

        async def _run(self) -> None:
            reason = ""
            try:
                await self._settled()
                socks = [
                    socket.socket(
                        fileno=os.dup(self._io(side).writer.get_extra_info("socket").fileno())
                    )
                    for side in self.sides
                ]
                self.handed = True
                try:
                    early = [b"".join(self.early[side]) for side in self.sides]
                    watchdog = self.handler.timeout_watchdog
                    await self.splice.run(socks, early, watchdog.register_activity)
                finally:
                    self.splice.stop()  # cancelled (the proxy stops): the pumps wake up
                    for sock in socks:
                        sock.close()
            except (OSError, KeyError, AttributeError) as exc:
                reason = f"the relay failed: {exc}"
            finally:
                Splice.running -= 1
                self.on_done(reason)
                io = self.handler.transports.get(self.context.client)
                if io is not None and io.handler is not None:
                    io.handler.cancel("tunnel closed")  # mitmproxy closes both and cleans up

        def _io(self, side: Any) -> Any:
            return self.handler.transports[side]

        async def _settled(self) -> None:
            """Until mitmproxy's read of each side waits on an empty buffer: all it had
            read has come here as DataReceived, and (reading paused) nothing more will."""
            for turn in range(2000):
                if self.splice.stopped:  # closed meanwhile: nothing to relay
                    return
                readers = [self._io(side).reader for side in self.sides]
                if all(getattr(r, "_waiter", True) is not None for r in readers):
                    return
                await asyncio.sleep(0 if turn < 20 else 0.005)
            raise OSError("mitmproxy kept reading")

    return Spliced


@functools.cache
def _passthrough_layer() -> Any:
    """mitmproxy's TCP layer without a flow: no hook for each chunk read (each one a task
    of mitmproxy's, which halved a download's speed), the bytes counted in passing, and
    ``done(reason)`` called once both sides have closed or the server was not reached."""
    from mitmproxy.proxy import events, layers

    class Passthrough(layers.TCPLayer):
        def __init__(self, context: Any, tunnel: dict[str, Any], done: Any) -> None:
            super().__init__(context, ignore=True)
            self.tunnel, self.on_done = tunnel, done

        def start(self, event: Any) -> Any:
            yield from super().start(event)
            if self._handle_event == self.done:
                self.on_done("the server could not be reached")

        _handle_event = start

        def relay_messages(self, event: Any) -> Any:
            if isinstance(event, events.DataReceived):
                self.tunnel["berth_bytes"] += len(event.data)
            yield from super().relay_messages(event)
            if self._handle_event == self.done:
                self.on_done("")

    return Passthrough
