"""What every handler needs: the service, the caller's security context and the relay settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from fabrikit.kernel.http import SECURITY_SCOPE_KEY
from fabrikit.kernel.security import SecurityContext

from ..config import StreamingConfig
from ..domain.errors import Forbidden
from ..domain.service_api import MiniChatService, StreamStart
from ..domain.telemetry import NO_TELEMETRY
from .sse import SseStream, relay


@dataclass(frozen=True)
class Deps:
    service: MiniChatService
    streaming: StreamingConfig

    def stream(self, start: StreamStart) -> SseStream:
        """The 200 SSE answer for a turn that opened (C-9): the relay reads only the handle."""
        return SseStream(
            relay(
                start.handle,
                ping_interval=self.streaming.sse_ping_interval_seconds,
                keepalive=self.streaming.sse_keepalive_seconds,
                telemetry=getattr(self.service, "telemetry", NO_TELEMETRY),
            )
        )


def security_of(connection: ASGIConnection[Any, Any, Any, Any] | Request[Any, Any, Any]) -> SecurityContext:
    ctx = connection.scope.get(SECURITY_SCOPE_KEY)  # type: ignore[call-overload]
    if not isinstance(ctx, SecurityContext) or ctx.is_anonymous:
        # The gateway authenticates every mini-chat route (C-2.1); anything else is a wiring fault: fail closed.
        raise Forbidden("no caller identity")
    return ctx


def license_guard(deps: Deps) -> Any:
    """A Litestar guard: runs after authentication and before the body is decoded, so an inactive license
    (403 ``license_required``) wins over a bad body (C-8 order 1 → 2)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        await deps.service.check_license(security_of(connection))

    return guard
