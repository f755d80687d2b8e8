"""Steps 6–10 of the middleware chain, run for matched operations only (P-6.3).

Body limit → content type → rate limit → authentication → scopes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog

from fabrikit.kernel.errors import DomainError, Unavailable
from fabrikit.kernel.http import SECURITY_SCOPE_KEY, Operation, operation_of
from fabrikit.kernel.logging import context_setter
from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, SecurityContext
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient, Unauthorized

from ..domain.limits import InFlight, TokenBucket, rate_limit_headers
from ..domain.paths import strip_prefix
from ..domain.scopes import match_rule, scopes_satisfy
from .asgi import ASGIApp, Message, Receive, Scope, Send, send_problem
from .outer import EXTRA_HEADERS_KEY, IDS_KEY, START_KEY, TIMEOUT_KEY
from .state import GatewayState

_log = structlog.get_logger("fabrikit.api_gateway")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_WWW = ((b"www-authenticate", b"Bearer"),)
_bind_caller_ids = context_setter("tenant_id", "subject_id")


class PayloadTooLarge(DomainError):
    code, status, title = "payload_too_large", 413, "Payload too large"


class _Plan:
    """What the chain needs to know about one (route handler, method): computed on its first request."""

    __slots__ = ("allowed", "allowed_text", "body_limit", "bucket", "in_flight", "op")

    def __init__(self, op: Operation, cfg: Any) -> None:
        self.op = op
        d = cfg.defaults.rate_limit
        rl = op.rate_limit
        rps, burst, in_flight = (rl.rps, rl.burst, rl.in_flight) if rl else (d.rps, d.burst, d.in_flight)
        self.bucket = TokenBucket(rps, burst)
        self.in_flight = InFlight(in_flight)
        self.body_limit: int = (
            cfg.defaults.body_limit_bytes if op.body_limit_bytes is None else op.body_limit_bytes
        )
        types = op.allowed_content_types
        self.allowed = frozenset(t.lower() for t in types) if types else None
        self.allowed_text = ", ".join(types) if types else ""


class OperationMiddleware:
    def __init__(
        self, app: ASGIApp, state: GatewayState, authn: AuthnResolverClient | None, rules: list[Any]
    ) -> None:
        self.app, self.state, self.authn, self.rules = app, state, authn, rules
        self._plans: dict[tuple[int, str], _Plan] = {}

    def _plan_for(self, handler: Any, method: str) -> _Plan:
        key = (id(handler), method)
        plan = self._plans.get(key)
        if plan is None:
            op = operation_of(getattr(handler, "opt", None)) or Operation("unknown")
            plan = self._plans[key] = _Plan(op, self.state.cfg)
        return plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        plan = self._plan_for(scope.get("route_handler"), method)
        op = plan.op
        if op.timeout_s is not None:
            self._apply_timeout(scope, op.timeout_s)
        # One pass over the headers (this runs for every request); the first occurrence counts.
        length = content_type = authorization = None
        chunked = False
        for key, value in scope["headers"]:
            if key == b"authorization":
                if authorization is None:
                    authorization = value.decode("latin-1")
            elif key == b"content-length":
                if length is None:
                    length = value.decode("latin-1")
            elif key == b"content-type":
                if content_type is None:
                    content_type = value.decode("latin-1")
            elif key == b"transfer-encoding":
                chunked = True

        # 6. body limit: a declared oversize body is refused unread; streamed bodies are counted.
        limit = plan.body_limit
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
        # HTTP/1.1: a request without Content-Length or Transfer-Encoding has no body to count.
        if limit and (chunked or (length is not None and length != "0")):
            receive = _counting_receive(receive, limit)

        # 7. content type
        if plan.allowed is not None and method in _BODY_METHODS:
            allowed = plan.allowed_text
            if content_type is None:
                await send_problem(
                    send,
                    415,
                    "unsupported_media_type",
                    "Unsupported media type",
                    f"Missing Content-Type header. Allowed types: {allowed}",
                )
                return
            media = content_type.split(";", 1)[0].strip().lower()
            if media not in plan.allowed:
                await send_problem(
                    send,
                    415,
                    "unsupported_media_type",
                    "Unsupported media type",
                    f"Content-Type '{media}' is not allowed. Allowed types: {allowed}",
                )
                return

        # 8. rate limit, then the in-flight permit held until the body completes
        bucket = plan.bucket
        if not bucket.try_take():
            retry = str(bucket.seconds_to_next_token()).encode()
            await send_problem(
                send,
                429,
                "rate_limited",
                "Too many requests",
                "The rate limit of this operation was exceeded.",
                headers=[*rate_limit_headers(bucket), (b"retry-after", retry)],
            )
            return
        # Every answer of a limited operation carries its rate-limit state (P-6.3.2), rejections included.
        extra = rate_limit_headers(bucket, refill=False)  # try_take just refilled it
        in_flight = plan.in_flight
        if not in_flight.try_acquire():
            await send_problem(
                send,
                503,
                "concurrency_limited",
                "Too many concurrent requests",
                "Too many requests of this operation are in flight.",
                headers=[*extra, (b"retry-after", b"1")],
            )
            return
        # The outer middleware adds them to whatever answers from here on (one send wrapper fewer).
        scope[EXTRA_HEADERS_KEY] = extra

        try:
            # 9. authentication
            ctx = await self._authenticate(scope, op, authorization, send)
            if ctx is None:
                return
            scope[SECURITY_SCOPE_KEY] = ctx
            if not ctx.is_anonymous:
                ids = scope[IDS_KEY] = _ids_text(ctx.subject_id, ctx.subject_tenant_id)
                _bind_caller_ids(ids[1], ids[0])
            # 10. scopes
            if (op.scopes or self.rules) and not await self._check_scopes(scope, op, ctx, send):
                return
            await self.app(scope, receive, send)
        finally:
            in_flight.release()

    def _apply_timeout(self, scope: Scope, timeout_s: float) -> None:
        deadline = scope.get(TIMEOUT_KEY)
        if deadline is not None:
            deadline.move(scope[START_KEY] + timeout_s if timeout_s > 0 else None)

    async def _authenticate(
        self, scope: Scope, op: Operation, authorization: str | None, send: Send
    ) -> SecurityContext | None:
        if op.auth == "public" or scope["method"] == "OPTIONS":
            return SecurityContext.anonymous()
        if self.state.cfg.auth_disabled:
            return SecurityContext(subject_id=DEFAULT_SUBJECT_ID, subject_tenant_id=DEFAULT_TENANT_ID)
        scheme, _, token = (authorization or "").strip().partition(" ")
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


class _IdsText(dict[tuple[UUID, UUID], tuple[str, str]]):
    """The caller's ids as logged, remembered: ``str(UUID)`` runs Python code, and callers repeat. Bounded."""

    limit = 4096

    def __missing__(self, key: tuple[UUID, UUID]) -> tuple[str, str]:
        text = (str(key[0]), str(key[1]))
        if len(self) >= self.limit:
            self.clear()
        self[key] = text
        return text


_IDS = _IdsText()


def _ids_text(subject_id: UUID, tenant_id: UUID) -> tuple[str, str]:
    return _IDS[subject_id, tenant_id]


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
