"""Tiny named aiohttp upstreams that can share one port on different loopback addresses (a real pool)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web


class NamedServer:
    """Answers every request with ``{"name": ..., "host": <Host header>}`` and counts hits."""

    def __init__(self, name: str, host: str, port: int) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.hits = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, reuse_address=True).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _answer(self, request: web.Request) -> web.Response:
        self.hits += 1
        body: dict[str, Any] = {
            "name": self.name,
            "host": request.headers.get("Host"),
            "target_host": request.headers.get("X-OAGW-Target-Host"),
        }
        return web.json_response(body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def loopback_pool(*hosts: str) -> AsyncIterator[list[NamedServer]]:
    """One server per loopback address, all on the same port (pools need one port, G-3.2)."""
    for _ in range(20):
        port = free_port()
        servers = [NamedServer(f"s{i}", host, port) for i, host in enumerate(hosts)]
        started: list[NamedServer] = []
        try:
            for server in servers:
                await server.start()
                started.append(server)
        except OSError:
            for server in started:
                await server.stop()
            continue
        try:
            yield servers
        finally:
            for server in servers:
                await server.stop()
        return
    raise RuntimeError("no free port shared by every loopback address")
