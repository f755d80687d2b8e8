"""uvicorn driven by the kernel: we bind the socket and own the signals (P-6.8)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn


class BindError(RuntimeError):
    pass


class UvicornServer:
    def __init__(self, app: Any, host: str, port: int, *, drain_timeout_s: float) -> None:
        self._config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            # uvicorn types it int but awaits it with asyncio.wait_for: sub-second drains work
            timeout_graceful_shutdown=max(drain_timeout_s, 0.1),  # type: ignore[arg-type]
            timeout_keep_alive=5,
        )
        self._server = uvicorn.Server(self._config)
        self._host, self._port = host, port
        self._sock: socket.socket | None = None
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1] if self._sock is not None else self._port

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when it sees TCP there.
        # Without it Nagle holds the body behind the unacknowledged head, and the client's delayed ACK adds
        # ~40 ms to every response sent in two writes.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._port))
        except OSError as exc:
            sock.close()
            raise BindError(f"cannot bind {self._host}:{self._port}: {exc.strerror}") from None
        sock.setblocking(False)
        return sock

    async def start(self) -> None:
        self._sock = self._bind()
        if not self._config.loaded:
            self._config.load()
        self._server.lifespan = self._config.lifespan_class(self._config)
        await self._server.startup(sockets=[self._sock])
        self._loop_task = asyncio.create_task(self._server.main_loop(), name="uvicorn-main-loop")

    async def wait(self) -> None:
        if self._loop_task is not None:
            await self._loop_task

    async def stop(self) -> None:
        """Stops accepting, lets open requests finish within the drain timeout, then cancels the rest."""
        self._server.should_exit = True
        if self._loop_task is not None:
            await self._loop_task
        if self._server.started:
            await self._server.shutdown(sockets=[self._sock] if self._sock is not None else None)
