"""Steps 6–10 of the middleware chain, run for matched operations only (P-6.3).

Body limit → content type → rate limit → authentication → scopes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from fabrikit.kernel.errors import DomainError, Unavailable
from fabrikit.kernel.http import SECURITY_SCOPE_KEY, Operation, operation_of
from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, SecurityContext
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient, Unauthorized

from ..domain.limits import InFlight, TokenBucket, rate_limit_headers
from ..domain.paths import strip_prefix
from ..domain.scopes import match_rule, scopes_satisfy
from .asgi import ASGIApp, Message, Receive, Scope, Send, header, send_problem
from .outer import START_KEY, TIMEOUT_KEY
from .state import GatewayState

_log = structlog.get_logger("fabrikit.api_gateway")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_WWW = [(b"www-authenticate", b"Bearer")]


class PayloadTooLarge(DomainError):
    code, status, title = "payload_too_large", 413, "Payload too large"


class _Limits:
    def __init__(self, bucket: TokenBucket, in_flight: InFlight) -> None:
        self.bucket, self.in_flight = bucket, in_flight


class OperationMiddleware:
    def __init__(
        self, app: ASGIApp, state: GatewayState, authn: AuthnResolverClient | None, rules: list[Any]
    ) -> None:
        self.app, self.state, self.authn, self.rules = app, state, authn, rules
        self._limits: dict[tuple[int, str], _Limits] = {}

    def _limits_for(self, handler: Any, method: str, op: Operation) -> _Limits:
        key = (id(handler), method)
        limits = self._limits.get(key)
        if limits is None:
            d = self.state.cfg.defaults.rate_limit
            rl = op.rate_limit
            rps, burst, in_flight = (rl.rps, rl.burst, rl.in_flight) if rl else (d.rps, d.burst, d.in_flight)
            limits = self._limits[key] = _Limits(TokenBucket(rps, burst), InFlight(in_flight))
        return limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = scope.get("route_handler")
        op = operation_of(getattr(handler, "opt", None)) or Operation("unknown")
        method: str = scope["method"]
        cfg = self.state.cfg
        self._apply_timeout(scope, op)

        # 6. body limit: a declared oversize body is refused unread; streamed bodies are counted.
        limit = cfg.defaults.body_limit_bytes if op.body_limit_bytes is None else op.body_limit_bytes
        length = header(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                await send_problem(
                    send, 400, "invalid_request", "Bad request", "Content-Length must be an integer."
                )
                return
            if limit and int(length) > limit:
                await send_problem(
                    send, 413, "payload_too_large", "Payload too large", f"The body exceeds {limit} bytes."
                )
                return
        if limit:
            receive = _counting_receive(receive, limit)

        # 7. content type
        if op.allowed_content_types and method in _BODY_METHODS:
            raw = header(scope, b"content-type")
            allowed = ", ".join(op.allowed_content_types)
            if raw is None:
                await send_problem(
                    send,
                    415,
                    "unsupported_media_type",
                    "Unsupported media type",
                    f"Missing Content-Type header. Allowed types: {allowed}",
                )
                return
            media = raw.split(";", 1)[0].strip().lower()
            if media not in {t.lower() for t in op.allowed_content_types}:
                await send_problem(
                    send,
                    415,
                    "unsupported_media_type",
                    "Unsupported media type",
                    f"Content-Type '{media}' is not allowed. Allowed types: {allowed}",
                )
                return

        # 8. rate limit, then the in-flight permit held until the body completes
        limits = self._limits_for(handler, method, op)
        if not limits.bucket.try_take():
            retry = str(limits.bucket.seconds_to_next_token()).encode()
            await send_problem(
                send,
                429,
                "rate_limited",
                "Too many requests",
                "The rate limit of this operation was exceeded.",
                headers=[*rate_limit_headers(limits.bucket), (b"retry-after", retry)],
            )
            return
        # Every answer of a limited operation carries its rate-limit state (P-6.3.2), rejections included.
        extra = rate_limit_headers(limits.bucket)
        if not limits.in_flight.try_acquire():
            await send_problem(
                send,
                503,
                "concurrency_limited",
                "Too many concurrent requests",
                "Too many requests of this operation are in flight.",
                headers=[*extra, (b"retry-after", b"1")],
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        try:
            # 9. authentication
            ctx = await self._authenticate(scope, op, send_with_headers)
            if ctx is None:
                return
            scope[SECURITY_SCOPE_KEY] = ctx
            if not ctx.is_anonymous:
                structlog.contextvars.bind_contextvars(
                    tenant_id=str(ctx.subject_tenant_id), subject_id=str(ctx.subject_id)
                )
            # 10. scopes
            if not await self._check_scopes(scope, op, ctx, send_with_headers):
                return
            await self.app(scope, receive, send_with_headers)
        finally:
            limits.in_flight.release()

    def _apply_timeout(self, scope: Scope, op: Operation) -> None:
        cm = scope.get(TIMEOUT_KEY)
        if cm is None or op.timeout_s is None:
            return
        if op.timeout_s <= 0:
            cm.reschedule(None)
        else:
            cm.reschedule(scope.get(START_KEY, asyncio.get_running_loop().time()) + op.timeout_s)

    async def _authenticate(self, scope: Scope, op: Operation, send: Send) -> SecurityContext | None:
        if op.auth == "public" or scope["method"] == "OPTIONS":
            return SecurityContext.anonymous()
        if self.state.cfg.auth_disabled:
            return SecurityContext(subject_id=DEFAULT_SUBJECT_ID, subject_tenant_id=DEFAULT_TENANT_ID)
        raw = header(scope, b"authorization") or ""
        scheme, _, token = raw.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            await send_problem(
                send,
                401,
                "unauthenticated",
                "Unauthenticated",
                "Missing or invalid Authorization header",
                headers=_WWW,
            )
            return None
        if self.authn is None:
            await send_problem(send, 503, "authn_unavailable", "Authentication service unavailable")
            return None
        try:
            result = await self.authn.authenticate(token)
        except Unauthorized:
            await send_problem(
                send, 401, "unauthenticated", "Unauthenticated", "Authentication failed", headers=_WWW
            )
            return None
        except Unavailable:
            await send_problem(
                send,
                503,
                "authn_unavailable",
                "Authentication service unavailable",
                "Authentication service unavailable",
            )
            return None
        except DomainError as exc:
            if exc.status == 401:
                await send_problem(
                    send, 401, "unauthenticated", "Unauthenticated", "Authentication failed", headers=_WWW
                )
                return None
            raise
        return result.security_context

    async def _check_scopes(self, scope: Scope, op: Operation, ctx: SecurityContext, send: Send) -> bool:
        if op.scopes and not ctx.is_anonymous and not scopes_satisfy(ctx.token_scopes, op.scopes):
            await send_problem(
                send, 403, "insufficient_scopes", "Forbidden", "Insufficient token scopes for this resource"
            )
            return False
        if not self.rules:
            return True
        path = strip_prefix(scope["path"], self.state.prefix) or scope["path"]
        rule = match_rule(self.rules, scope["method"], path)
        if rule is None:
            return True
        if ctx.is_anonymous:
            await send_problem(
                send,
                401,
                "unauthenticated",
                "Unauthenticated",
                "Authentication required for this resource",
                headers=_WWW,
            )
            return False
        if not scopes_satisfy(ctx.token_scopes, rule.required_scopes):
            await send_problem(
                send, 403, "insufficient_scopes", "Forbidden", "Insufficient token scopes for this resource"
            )
            return False
        return True


def _counting_receive(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
        return message

    return wrapped
