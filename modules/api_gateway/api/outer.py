"""Steps 1–5 of the middleware chain as a plain ASGI wrapper, so they also cover 404/405 (P-6.3).

Request id → access log → error guard → timeout → CORS, plus the probes, which never reach Litestar.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

from fabrikit.kernel.http import SECURITY_SCOPE_KEY, accept_request_id, bind_request
from fabrikit.kernel.logging import context_setter, get_batched_logger

from .asgi import ASGIApp, Message, Receive, Scope, Send, header, send_problem
from .deadlines import Deadline, Deadlines

if TYPE_CHECKING:
    from .state import GatewayState

# One line per request: lines of one loop iteration are rendered and written together (same lines).
_access = get_batched_logger("fabrikit.access")
_bind_request_ids = context_setter("request_id", "trace_id")


def flush_access_log() -> None:
    _access.flush()


_log = structlog.get_logger("fabrikit.api_gateway")
TIMEOUT_KEY = "fabrikit.timeout"
START_KEY = "fabrikit.started_at"
# Set by the operation middleware: headers every answer of the operation carries (rate-limit state), and the
# caller's ids as logged (strings, computed once per request).
EXTRA_HEADERS_KEY = "fabrikit.extra_headers"
IDS_KEY = "fabrikit.subject_ids"
_START = "http.response.start"
_BODY = "http.response.body"


class _Exchange:
    """What the access log needs to know about one request/response."""

    __slots__ = ("bytes_in", "bytes_out", "deadline", "head", "logged", "started", "status", "user_agent")

    def __init__(self, started: float, user_agent: str | None) -> None:
        self.started = started
        self.user_agent = user_agent
        self.status = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.head = False
        self.logged = False
        self.deadline: Deadline | None = None


class OuterMiddleware:
    def __init__(self, app: ASGIApp, state: GatewayState) -> None:
        self.app = app
        self.state = state
        cfg = state.cfg
        self._cors = cfg.cors_enabled
        self._timeout_s = cfg.defaults.timeout_s or None
        self._deadlines = Deadlines()
        self._access_log = cfg.access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        st = self.state
        # One pass over the headers: this runs for every request.
        raw_id = traceparent = origin = user_agent = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                raw_id = value.decode("latin-1")
            elif key == b"traceparent":
                traceparent = value.decode("latin-1")
            elif key == b"user-agent":
                if user_agent is None:
                    user_agent = value
            elif key == b"origin" and self._cors:
                origin = value.decode("latin-1")
        request_id = accept_request_id(raw_id)
        trace_id = bind_request(request_id, traceparent)
        # Each request runs in its own task (a copy of the server's context), so binding is enough: nothing
        # bound here can leak into another request, and clear_contextvars() would copy the whole context.
        _bind_request_ids(request_id, trace_id)
        scope[START_KEY] = started_at = asyncio.get_running_loop().time()
        ex = _Exchange(time.perf_counter(), user_agent.decode("latin-1") if user_agent is not None else None)
        rid = request_id.encode()

        async def send_wrapper(message: Message) -> None:
            kind = message["type"]
            if kind == _BODY:
                body = message.get("body")
                if body:
                    ex.bytes_out += len(body)
                if not message.get("more_body", False) and not ex.logged:
                    await send(message)
                    self._log_access(scope, ex)  # after the last byte left: not on the client's clock
                    return
            elif kind == _START:
                ex.status = message["status"]
                ex.head = True
                if ex.deadline is not None:
                    ex.deadline.release()  # a started stream is never cut
                headers = list(message.get("headers", ()))
                extra = scope.get(EXTRA_HEADERS_KEY)
                if extra:
                    headers += extra
                headers.append((b"x-request-id", rid))
                if origin is not None:
                    headers += st.cors_headers(origin)
                if st.draining:
                    headers.append((b"connection", b"close"))
                message["headers"] = headers
            await send(message)

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                ex.bytes_in += len(message.get("body", b""))
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
            timeout = self._timeout_s
            ex.deadline = scope[TIMEOUT_KEY] = self._deadlines.watch(
                started_at + timeout if timeout is not None else None
            )
            await self.app(scope, receive_wrapper, send_wrapper)
        except asyncio.CancelledError:
            if ex.head or ex.deadline is None or not ex.deadline.cancelled_by_me():
                raise
            _log.warning("request_timeout", path=scope["path"])
            await send_problem(
                send_wrapper, 504, "gateway_timeout", "Gateway timeout", "The request took too long."
            )
        except Exception as exc:
            _log.error("request_crashed", error=f"{type(exc).__name__}", exc_info=exc)
            if not ex.head:
                await send_problem(
                    send_wrapper, 500, "internal", "Internal Server Error", "An internal error occurred."
                )
        finally:
            if ex.deadline is not None:
                ex.deadline.release()
            if not ex.logged:
                self._log_access(scope, ex)

    def _log_access(self, scope: Scope, ex: _Exchange) -> None:
        ex.logged = True
        if not self._access_log:
            return
        ids = scope.get(IDS_KEY)
        if ids is None:
            sec = scope.get(SECURITY_SCOPE_KEY)
            if sec is not None and not sec.is_anonymous:
                ids = (str(sec.subject_id), str(sec.subject_tenant_id))
        client = scope.get("client")
        _access.info(
            "http_request",
            method=scope["method"],
            path=scope["path"],
            status=ex.status,
            duration_ms=round((time.perf_counter() - ex.started) * 1000, 3),
            bytes_in=ex.bytes_in,
            bytes_out=ex.bytes_out,
            remote_addr=client[0] if client else None,
            user_agent=ex.user_agent,
            subject_id=ids[0] if ids is not None else None,
            tenant_id=ids[1] if ids is not None else None,
        )
