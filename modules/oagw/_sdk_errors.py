"""One ``OagwError`` subclass per problem type of G-18.2 (G-7.6).

Each class is a kernel ``DomainError``, so the kernel's problem handler renders it: ``type`` is the GTS problem type
``gts.x.core.errors.err.v1~x.oagw.<suffix>`` and ``code`` the suffix minus its version with dots turned into
underscores (``rate_limit.exceeded.v1`` → ``rate_limit_exceeded``).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from fabrikit.kernel.errors import DomainError, ErrorCatalog, Problem

_TYPE_PREFIX = "gts.x.core.errors.err.v1~x.oagw."
ERROR_SOURCE_HEADER = "x-oagw-error-source"


def _code_of(suffix: str) -> str:
    base, _, version = suffix.rpartition(".")
    if not base or not version.startswith("v"):
        raise TypeError(f"problem suffix {suffix!r} must end with .v<N>")
    return base.replace(".", "_")


class OagwError(DomainError):
    """Base of every gateway-side failure; always ``error_source == "gateway"`` (G-7.5, G-18.1)."""

    suffix: ClassVar[str] = "downstream.error.v1"
    problem_type: ClassVar[str] = _TYPE_PREFIX + "downstream.error.v1"
    code: ClassVar[str] = "downstream_error"
    status: ClassVar[int] = 502
    title: ClassVar[str] = "Downstream error"
    type: ClassVar[str | None] = _TYPE_PREFIX + "downstream.error.v1"
    error_source: ClassVar[str] = "gateway"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "suffix" in cls.__dict__:
            cls.problem_type = _TYPE_PREFIX + cls.suffix
            cls.type = cls.problem_type
            cls.code = _code_of(cls.suffix)
        super().__init_subclass__(**kwargs)

    def __init__(self, detail: str = "", *, instance: str | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.instance = instance

    def to_problem(self, *, trace_id: str = "", instance: str | None = None) -> Problem:
        return super().to_problem(trace_id=trace_id, instance=instance or self.instance)

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        headers["X-OAGW-Error-Source"] = "gateway"
        return headers

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, detail={self.detail!r})"


def _retry_after(value: float) -> int:
    return max(1, math.ceil(value))


# --- 400 ---------------------------------------------------------------------------------------------------------
class ValidationError(OagwError):
    suffix, status, title = "validation.error.v1", 400, "Validation error"


class InvalidTargetHostError(OagwError):
    suffix, status, title = "routing.invalid_target_host.v1", 400, "Invalid target host"


class UnknownTargetHostError(OagwError):
    suffix, status, title = "routing.unknown_target_host.v1", 400, "Unknown target host"


# --- 401 / 403 ---------------------------------------------------------------------------------------------------
class AuthenticationFailedError(OagwError):
    suffix, status, title = "auth.failed.v1", 401, "Authentication failed"


class ForbiddenError(OagwError):
    suffix, status, title = "authz.forbidden.v1", 403, "Forbidden"


class TargetBlockedError(OagwError):
    """The target address is refused by the network policy; the detail never names the address (G-17.3)."""

    suffix, status, title = "routing.target_blocked.v1", 403, "Target blocked"

    def __init__(self, detail: str = "", *, instance: str | None = None) -> None:
        super().__init__(
            detail or "The upstream address is not allowed by the network policy.", instance=instance
        )


class CorsOriginNotAllowedError(OagwError):
    suffix, status, title = "cors.origin_not_allowed.v1", 403, "CORS origin not allowed"


class CorsMethodNotAllowedError(OagwError):
    suffix, status, title = "cors.method_not_allowed.v1", 403, "CORS method not allowed"


# --- 404 ---------------------------------------------------------------------------------------------------------
class NotFoundError(OagwError):
    suffix, status, title = "resource.not_found.v1", 404, "Resource not found"
    extensions = ("entity",)

    def __init__(self, detail: str = "", *, entity: str | None = None, instance: str | None = None) -> None:
        super().__init__(detail, instance=instance, entity=entity)
        self.entity = entity


class RouteNotFoundError(OagwError):
    suffix, status, title = "route.not_found.v1", 404, "Route not found"


class PluginNotFoundError(OagwError):
    suffix, status, title = "plugin.not_found.v1", 404, "Plugin not found"


# --- 409 / 413 / 429 ---------------------------------------------------------------------------------------------
class ConflictError(OagwError):
    suffix, status, title = "resource.conflict.v1", 409, "Conflict"


class PluginInUseError(OagwError):
    suffix, status, title = "plugin.in_use.v1", 409, "Plugin in use"


class PayloadTooLargeError(OagwError):
    suffix, status, title = "payload.too_large.v1", 413, "Payload too large"


class RateLimitExceededError(OagwError):
    """429 with a fixed detail: the key and the tenant never show (G-15.7)."""

    suffix, status, title = "rate_limit.exceeded.v1", 429, "Rate limit exceeded"
    extensions = ("retry_after_secs",)
    DETAIL: ClassVar[str] = "Rate limit exceeded; retry later."

    def __init__(
        self,
        retry_after_secs: float = 1,
        *,
        rate_limit_headers: list[tuple[str, str]] | None = None,
        instance: str | None = None,
    ) -> None:
        secs = _retry_after(retry_after_secs)
        super().__init__(self.DETAIL, instance=instance, retry_after_secs=secs)
        self.retry_after_secs = secs
        self.rate_limit_headers = list(rate_limit_headers or [])

    def response_headers(self) -> dict[str, str]:
        headers = super().response_headers()
        headers.update(self.rate_limit_headers)
        headers["Retry-After"] = str(self.retry_after_secs)
        return headers


# --- 500 / 502 ---------------------------------------------------------------------------------------------------
class SecretNotFoundError(OagwError):
    suffix, status, title = "secret.not_found.v1", 500, "Secret not found"


class DownstreamError(OagwError):
    """502 by default; ``status=500`` for internal faults such as an unknown or raising guard (G-18.2)."""

    suffix, status, title = "downstream.error.v1", 502, "Downstream error"

    def __init__(self, detail: str = "", *, status: int = 502, instance: str | None = None) -> None:
        if status not in (500, 502):
            raise ValueError("DownstreamError status is 500 or 502")
        super().__init__(detail, instance=instance)
        # The class default is 502; an internal fault overrides it per instance.
        setattr(self, "status", status)  # noqa: B010


class ProtocolError(OagwError):
    suffix, status, title = "protocol.error.v1", 502, "Protocol error"


class StreamAbortedError(OagwError):
    suffix, status, title = "stream.aborted.v1", 502, "Stream aborted"


# --- 503 / 504 ---------------------------------------------------------------------------------------------------
class UpstreamDisabledError(OagwError):
    suffix, status, title = "routing.upstream_disabled.v1", 503, "Upstream disabled"


class LinkUnavailableError(OagwError):
    suffix, status, title = "link.unavailable.v1", 503, "Link unavailable"


class CircuitBreakerOpenError(OagwError):
    suffix, status, title = "circuit_breaker.open.v1", 503, "Circuit breaker open"
    extensions = ("retry_after_secs",)

    def __init__(self, retry_after_secs: float = 1, *, detail: str = "", instance: str | None = None) -> None:
        secs = _retry_after(retry_after_secs)
        super().__init__(
            detail or "The upstream is failing; requests are paused.",
            instance=instance,
            retry_after_secs=secs,
        )
        self.retry_after_secs = secs

    def response_headers(self) -> dict[str, str]:
        headers = super().response_headers()
        headers["Retry-After"] = str(self.retry_after_secs)
        headers["X-Circuit-State"] = "open"
        return headers


class ConnectionTimeoutError(OagwError):
    suffix, status, title = "timeout.connection.v1", 504, "Connection timeout"


class RequestTimeoutError(OagwError):
    suffix, status, title = "timeout.request.v1", 504, "Request timeout"


class IdleTimeoutError(OagwError):
    suffix, status, title = "timeout.idle.v1", 504, "Idle timeout"


# --- guard's status ----------------------------------------------------------------------------------------------
class GuardRejectedError(OagwError):
    """A guard's rejection: its status (outside 400–599 → 400), detail and ``error_code`` (G-14.4)."""

    suffix, status, title = "guard.rejected.v1", 400, "Request rejected by guard"
    extensions = ("error_code",)

    def __init__(
        self,
        status: int = 400,
        detail: str = "",
        *,
        error_code: str | None = None,
        instance: str | None = None,
    ) -> None:
        super().__init__(detail, instance=instance, error_code=error_code)
        self.error_code = error_code
        setattr(self, "status", status if isinstance(status, int) and 400 <= status <= 599 else 400)  # noqa: B010


ALL_ERRORS: tuple[type[OagwError], ...] = (
    ValidationError,
    InvalidTargetHostError,
    UnknownTargetHostError,
    AuthenticationFailedError,
    ForbiddenError,
    TargetBlockedError,
    CorsOriginNotAllowedError,
    CorsMethodNotAllowedError,
    NotFoundError,
    RouteNotFoundError,
    PluginNotFoundError,
    ConflictError,
    PluginInUseError,
    PayloadTooLargeError,
    RateLimitExceededError,
    SecretNotFoundError,
    DownstreamError,
    ProtocolError,
    StreamAbortedError,
    UpstreamDisabledError,
    LinkUnavailableError,
    CircuitBreakerOpenError,
    ConnectionTimeoutError,
    RequestTimeoutError,
    IdleTimeoutError,
    GuardRejectedError,
)

ERRORS = ErrorCatalog("oagw", *ALL_ERRORS)
