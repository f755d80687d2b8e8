"""Steps 1–5 of the middleware chain as a plain ASGI wrapper, so they also cover 404/405 (P-6.3).

Request id → access log → error guard → timeout → CORS, plus the probes, which never reach Litestar.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import structlog

from fabrikit.kernel.http import SECURITY_SCOPE_KEY, accept_request_id, bind_request

from .asgi import ASGIApp, Message, Receive, Scope, Send, header, send_problem

if TYPE_CHECKING:
    from .state import GatewayState

_access = structlog.get_logger("fabrikit.access")
_log = structlog.get_logger("fabrikit.api_gateway")
TIMEOUT_KEY = "fabrikit.timeout"
START_KEY = "fabrikit.started_at"


class OuterMiddleware:
    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        st = self.state
        request_id = accept_request_id(header(scope, b"x-request-id"))
        trace_id = bind_request(request_id, header(scope, b"traceparent"))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, trace_id=trace_id)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        scope[START_KEY] = loop.time()
        info: dict[str, Any] = {"status": 0, "bytes_out": 0, "bytes_in": 0, "head": False}
        origin = header(scope, b"origin") if st.cfg.cors_enabled else None
        rid = request_id.encode()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
                info["head"] = True
                cm = scope.get(TIMEOUT_KEY)
                if cm is not None and not cm.expired():
                    cm.reschedule(None)  # a started stream is never cut
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid))
                if origin is not None:
                    headers.extend(st.cors_headers(origin))
                if st.draining:
                    headers.append((b"connection", b"close"))
                message["headers"] = headers
            elif message["type"] == "http.response.body":
                info["bytes_out"] += len(message.get("body", b""))
                if not message.get("more_body", False) and not info.get("logged"):
                    self._log_access(scope, info, started)
            await send(message)

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                info["bytes_in"] += len(message.get("body", b""))
            return message

        try:
            path: str = scope["path"]
            probe = st.probe_for(path)
            if probe is not None:
                await probe(scope, send_wrapper)
                return
            if st.draining:
                await send_problem(
                    send_wrapper,
                    503,
                    "shutting_down",
                    "Shutting down",
                    "The server is shutting down.",
                    headers=[(b"retry-after", b"1")],
                )
                return
            if st.is_hidden(path):
                await send_problem(send_wrapper, 404, "not_found", "Not found", instance=path)
                return
            if (
                origin is not None
                and scope["method"] == "OPTIONS"
                and header(scope, b"access-control-request-method")
            ):
                await st.answer_preflight(scope, origin, send_wrapper)
                return
            async with asyncio.timeout(st.cfg.defaults.timeout_s or None) as cm:
                scope[TIMEOUT_KEY] = cm
                await self.app(scope, receive_wrapper, send_wrapper)
        except TimeoutError:
            if info["head"]:
                raise
            _log.warning("request_timeout", path=scope["path"])
            await send_problem(
                send_wrapper, 504, "gateway_timeout", "Gateway timeout", "The request took too long."
            )
        except Exception as exc:
            _log.error("request_crashed", error=f"{type(exc).__name__}", exc_info=exc)
            if not info["head"]:
                await send_problem(
                    send_wrapper, 500, "internal", "Internal Server Error", "An internal error occurred."
                )
        finally:
            if not info.get("logged"):
                self._log_access(scope, info, started)

    def _log_access(self, scope: Scope, info: dict[str, Any], started: float) -> None:
        info["logged"] = True
        if not self.state.cfg.access_log:
            return
        sec = scope.get(SECURITY_SCOPE_KEY)
        client = scope.get("client")
        _access.info(
            "http_request",
            method=scope["method"],
            path=scope["path"],
            status=info["status"],
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            bytes_in=info["bytes_in"],
            bytes_out=info["bytes_out"],
            remote_addr=client[0] if client else None,
            user_agent=header(scope, b"user-agent"),
            subject_id=str(sec.subject_id) if sec is not None and not sec.is_anonymous else None,
            tenant_id=str(sec.subject_tenant_id) if sec is not None and not sec.is_anonymous else None,
        )
