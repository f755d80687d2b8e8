"""The caller's SecurityContext as the API host stored it (K-18)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from fabrikit.kernel.http import SECURITY_SCOPE_KEY
from fabrikit.kernel.security import SecurityContext

from ..sdk import AuthenticationFailedError


def security_of(request: Request[Any, Any, Any]) -> SecurityContext:
    ctx = request.scope.get(SECURITY_SCOPE_KEY)  # type: ignore[call-overload]
    if not isinstance(ctx, SecurityContext) or ctx.is_anonymous:
        raise AuthenticationFailedError("authentication required")
    return ctx
