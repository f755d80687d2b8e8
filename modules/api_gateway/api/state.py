"""Shared state of the running gateway: config, drain flag, probes, CORS answers, docs and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from fabrikit.kernel import RuntimeView

from ..config import GatewayConfig
from .asgi import Scope, Send, header, send_bytes, send_json, send_problem

INTERNAL_SCHEMA_PATH = "/_fabrikit_internal_schema"
Probe = Callable[[Scope, Send], Awaitable[None]]
_EXPOSE = (
    b"x-request-id, ratelimit-limit, ratelimit-remaining, ratelimit-reset, x-ratelimit-limit, "
    b"x-ratelimit-remaining, retry-after"
)
_DOCS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div><script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{url}", dom_id: "#ui"}});</script></body></html>
"""


class GatewayState:
    def __init__(self, cfg: GatewayConfig, view: RuntimeView) -> None:
        self.cfg = cfg
        self.view = view
        self.prefix = cfg.prefix
        self.draining = False
        self.shutting_down = asyncio.Event()
        self.openapi_json: bytes = b"{}"
        self.metrics: Callable[[], tuple[bytes, str]] | None = None
        self._probes: dict[str, Probe] = {}
        for base in {"", self.prefix}:
            self._probes[base + "/healthz"] = self._healthz
            self._probes[base + "/health"] = self._health
            self._probes[base + "/readyz"] = self._readyz
        if cfg.enable_docs:
            self._probes[self.prefix + "/openapi.json"] = self._openapi
            self._probes[self.prefix + "/docs"] = self._docs
        if cfg.metrics_path:
            self._probes[cfg.metrics_path] = self._metrics

    # -- routing of built-in endpoints ---------------------------------------------------------
    def probe_for(self, path: str) -> Probe | None:
        return self._probes.get(path)

    def is_hidden(self, path: str) -> bool:
        return path.startswith(INTERNAL_SCHEMA_PATH) or path.startswith("/schema")

    async def _healthz(self, scope: Scope, send: Send) -> None:
        await send_bytes(send, 200, b"ok", "text/plain; charset=utf-8")

    async def _health(self, scope: Scope, send: Send) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        await send_json(send, 200, {"status": "healthy", "timestamp": now})

    async def _readyz(self, scope: Scope, send: Send) -> None:
        if self.draining or self.view.shutting_down:
            await send_json(send, 503, {"status": "shutting_down"})
            return
        ready, bad = self.view.readiness()
        if ready:
            await send_json(send, 200, {"status": "ready"})
        else:
            await send_json(send, 503, {"status": "not_ready", "modules": bad})

    async def _openapi(self, scope: Scope, send: Send) -> None:
        await send_bytes(send, 200, self.openapi_json, "application/json", [(b"cache-control", b"no-store")])

    async def _docs(self, scope: Scope, send: Send) -> None:
        html = _DOCS_HTML.format(title=self.cfg.openapi.title, url=self.prefix + "/openapi.json")
        await send_bytes(send, 200, html.encode(), "text/html; charset=utf-8")

    async def _metrics(self, scope: Scope, send: Send) -> None:
        if self.metrics is None:
            await send_problem(send, 404, "not_found", "Not found")
            return
        body, content_type = self.metrics()
        await send_bytes(send, 200, body, content_type)

    # -- CORS -----------------------------------------------------------------------------------
    def _origin_allowed(self, origin: str) -> bool:
        allowed = self.cfg.cors.allowed_origins
        return "*" in allowed or origin in allowed

    def cors_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        if not self._origin_allowed(origin):
            return []
        cors = self.cfg.cors
        value = b"*" if "*" in cors.allowed_origins and not cors.allow_credentials else origin.encode()
        headers = [
            (b"access-control-allow-origin", value),
            (b"vary", b"Origin"),
            (b"access-control-expose-headers", _EXPOSE),
        ]
        if cors.allow_credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        return headers

    async def answer_preflight(self, scope: Scope, origin: str, send: Send) -> None:
        cors = self.cfg.cors
        method = (header(scope, b"access-control-request-method") or "").upper()
        if not self._origin_allowed(origin):
            await send_problem(send, 403, "cors_origin_not_allowed", "CORS origin not allowed")
            return
        if method not in {m.upper() for m in cors.allowed_methods}:
            await send_problem(send, 405, "cors_method_not_allowed", "CORS method not allowed")
            return
        requested = header(scope, b"access-control-request-headers") or ""
        allow_headers = requested if "*" in cors.allowed_headers else ", ".join(cors.allowed_headers)
        headers = [
            (b"access-control-allow-methods", ", ".join(cors.allowed_methods).encode()),
            (b"access-control-max-age", str(cors.max_age_seconds).encode()),
        ]
        if allow_headers:
            headers.append((b"access-control-allow-headers", allow_headers.encode()))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def encode(obj: Any) -> bytes:
    return msgspec.json.encode(obj)
