"""Real aiohttp upstream servers on free loopback ports, shared by the oagw engine and end-to-end tests.

``Upstreams`` runs one app with every behaviour the tests need (echo, slow, SSE, failing, 429, hanging streams,
uploads) and an OAuth2 token endpoint that counts its calls. Tests synchronise through asyncio events, not sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web


class Upstreams:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.token_calls: list[dict[str, Any]] = []
        self.sse_release = asyncio.Event()
        self.hang_release = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.upload_complete: list[bool] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Upstreams:
        app = web.Application()
        app.router.add_route("*", "/echo{tail:.*}", self.echo)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/sse", self.sse)
        app.router.add_get("/sse-gated", self.sse_gated)
        app.router.add_get("/stall", self.stall)
        app.router.add_get("/hang", self.hang)
        app.router.add_route("*", "/fail", self.fail)
        app.router.add_get("/busy", self.busy)
        app.router.add_get("/headers", self.fancy_headers)
        app.router.add_get("/cut", self.cut)
        app.router.add_post("/upload", self.upload)
        app.router.add_post("/token", self.token)
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sse_release.set()
        self.hang_release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- handlers ---------------------------------------------------------------------------------------------
    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        record = {
            "method": request.method,
            "raw_path": request.raw_path,
            "headers": [[k, v] for k, v in request.headers.items()],
            "body_b64": base64.b64encode(body).decode(),
            "chunked": request.headers.get("Transfer-Encoding", "").lower() == "chunked",
        }
        self.requests.append(record)
        return web.json_response(record, headers={"X-Upstream": "echo"})

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("delay", "5")))
        return web.json_response({"slow": True})

    async def _sse_response(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        return response

    async def sse(self, request: web.Request) -> web.StreamResponse:
        response = await self._sse_response(request)
        for i in range(int(request.query.get("n", "3"))):
            await response.write(f'data: {{"i": {i}}}\n\n'.encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def sse_gated(self, request: web.Request) -> web.StreamResponse:
        """The first event, then nothing until the test sets ``sse_release``: proves no buffering."""
        response = await self._sse_response(request)
        await response.write(b'data: {"i": 0}\n\n')
        await self.sse_release.wait()
        await response.write(b'data: {"i": 1}\n\n')
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def stall(self, request: web.Request) -> web.StreamResponse:
        """An SSE stream that sends one event and then stays silent (idle timeout)."""
        response = await self._sse_response(request)
        await response.write(b'data: {"i": 0}\n\n')
        await self.hang_release.wait()
        return response

    async def hang(self, request: web.Request) -> web.StreamResponse:
        """Streams a chunk every few milliseconds until the peer goes away, then sets ``disconnected``."""
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        try:
            for _ in range(100_000):
                await response.write(b"x" * 64)
                await asyncio.sleep(0.01)
        except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
            self.disconnected.set()
            raise
        finally:
            if request.transport is None or request.transport.is_closing():
                self.disconnected.set()
        return response

    async def fail(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "upstream exploded"}, status=500)

    async def busy(self, request: web.Request) -> web.Response:
        return web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": "7"})

    async def fancy_headers(self, request: web.Request) -> web.Response:
        response = web.json_response({"ok": True})
        response.headers["X-Oagw-Error-Source"] = "gateway"
        response.headers["Set-Cookie"] = "session=abc"
        response.headers["Keep-Alive"] = "timeout=5"
        response.headers["X-Remove-Me"] = "1"
        response.headers["X-Kept"] = "1"
        return response

    async def cut(self, request: web.Request) -> web.StreamResponse:
        """Announces 1000 bytes, sends 10, then drops the connection."""
        response = web.StreamResponse(
            headers={"Content-Length": "1000", "Content-Type": "application/octet-stream"}
        )
        await response.prepare(request)
        await response.write(b"0123456789")
        assert request.transport is not None
        request.transport.close()
        return response

    async def upload(self, request: web.Request) -> web.Response:
        chunks: list[bytes] = []
        try:
            async for chunk in request.content.iter_any():
                chunks.append(chunk)
        except Exception:
            self.upload_complete.append(False)
            raise
        self.upload_complete.append(True)
        body = b"".join(chunks)
        self.requests.append(
            {
                "raw_path": request.raw_path,
                "body_b64": base64.b64encode(body).decode(),
                "chunked": request.headers.get("Transfer-Encoding", "").lower() == "chunked",
                "headers": [[k, v] for k, v in request.headers.items()],
            }
        )
        return web.json_response({"size": len(body)})

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_calls.append(
            {"form": {k: str(v) for k, v in form.items()}, "auth": request.headers.get("Authorization")}
        )
        client_id = form.get("client_id")
        if request.headers.get("Authorization", "").startswith("Basic "):
            raw = base64.b64decode(request.headers["Authorization"][6:]).decode()
            client_id = raw.partition(":")[0]
        if client_id != "client-1":
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": f"tok-{len(self.token_calls)}", "expires_in": 3600})

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": self.base, "token_endpoint": self.base + "/token"})


def echoed(body: bytes) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(body)
    record["body"] = base64.b64decode(record["body_b64"])
    return record


def header_of(record: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in record["headers"] if k.lower() == name.lower()), None)


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing_source(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise RuntimeError("the source broke")


@contextlib.asynccontextmanager
async def upstreams() -> AsyncIterator[Upstreams]:
    async with Upstreams() as ups:
        yield ups
