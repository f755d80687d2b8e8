"""How a route declares its auth posture and limits (K-18, P-6.1)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

OPERATION_KEY = "operation"


class RateLimit(msgspec.Struct, frozen=True):
    rps: int
    burst: int
    in_flight: int

    def __post_init__(self) -> None:
        if self.rps <= 0 or self.burst <= 0 or self.in_flight <= 0:
            raise ValueError("rate limit rps, burst and in_flight must all be > 0")


class Operation(msgspec.Struct, frozen=True):
    operation_id: str
    auth: Literal["authenticated", "public"] = "authenticated"
    scopes: tuple[str, ...] = ()
    rate_limit: RateLimit | None = None
    allowed_content_types: tuple[str, ...] | None = None
    body_limit_bytes: int | None = None
    timeout_s: float | None = None
    license_features: tuple[str, ...] = ()
    streaming: bool = False


def operation(operation_id: str, **kwargs: Any) -> dict[str, Any]:
    """``opt=operation("chats.list")`` — the value to pass as a Litestar handler's ``opt``."""
    validation: dict[str, Any] = {
        k: kwargs.pop(k) for k in ("validation_status", "validation_code") if k in kwargs
    }
    return {OPERATION_KEY: Operation(operation_id, **kwargs), **validation}


def public(operation_id: str, **kwargs: Any) -> dict[str, Any]:
    return operation(operation_id, auth="public", **kwargs)


def authenticated(operation_id: str, scopes: tuple[str, ...] = (), **kwargs: Any) -> dict[str, Any]:
    return operation(operation_id, auth="authenticated", scopes=tuple(scopes), **kwargs)


def operation_of(opt: dict[str, Any] | None) -> Operation | None:
    value = (opt or {}).get(OPERATION_KEY)
    return value if isinstance(value, Operation) else None
