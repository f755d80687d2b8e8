"""Built-in plugins registered by oagw itself (G-14.5): noop auth, ``required_headers`` guard, ``request_id``."""

from __future__ import annotations

import uuid

from ..sdk import (
    ALLOW,
    NOOP_AUTH_ID,
    REQUEST_ID_TRANSFORM_ID,
    REQUIRED_HEADERS_GUARD_ID,
    Allow,
    AuthContext,
    AuthPlugin,
    GuardContext,
    GuardPlugin,
    Reject,
    TransformErrorContext,
    TransformPlugin,
    TransformRequestContext,
    TransformResponseContext,
)


class NoopAuth:
    async def authenticate(self, actx: AuthContext) -> None:
        return None


def _names(raw: str | None) -> list[str]:
    return [n.strip().lower() for n in (raw or "").split(",") if n.strip()]


class RequiredHeadersGuard:
    """``required_request_headers`` missing → 400 ``REQUIRED_HEADER_MISSING``; ``required_response_headers``
    missing → 502. Unconfigured allows."""

    async def check_request(self, gctx: GuardContext) -> Allow | Reject:
        missing = [
            n for n in _names(gctx.config.get("required_request_headers")) if gctx.get_header(n) is None
        ]
        if missing:
            return Reject(
                status=400,
                error_code="REQUIRED_HEADER_MISSING",
                detail=f"missing required request header(s): {', '.join(missing)}",
            )
        return ALLOW

    async def check_response(self, gctx: GuardContext) -> Allow | Reject:
        missing = [
            n for n in _names(gctx.config.get("required_response_headers")) if gctx.get_header(n) is None
        ]
        if missing:
            return Reject(
                status=502,
                error_code="REQUIRED_HEADER_MISSING",
                detail=f"the upstream response lacks required header(s): {', '.join(missing)}",
            )
        return ALLOW


class RequestIdTransform:
    async def on_request(self, ctx: TransformRequestContext) -> None:
        if ctx.get_header("x-request-id") is None:
            ctx.set_header("x-request-id", str(uuid.uuid4()))

    async def on_response(self, ctx: TransformResponseContext) -> None:
        return None

    async def on_error(self, ctx: TransformErrorContext) -> None:
        return None


BUILTIN_AUTH: dict[str, AuthPlugin] = {NOOP_AUTH_ID: NoopAuth()}
BUILTIN_GUARDS: dict[str, GuardPlugin] = {REQUIRED_HEADERS_GUARD_ID: RequiredHeadersGuard()}
BUILTIN_TRANSFORMS: dict[str, TransformPlugin] = {REQUEST_ID_TRANSFORM_ID: RequestIdTransform()}
