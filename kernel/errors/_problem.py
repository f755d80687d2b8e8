"""RFC 9457 problem details and the domain error hierarchy every module raises (K-11)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

import msgspec

PROBLEM_CONTENT_TYPE = "application/problem+json"
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str
    code: str


class Problem(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A problem+json body. ``extensions`` appear both at the top level and under ``context``."""

    type: str
    title: str
    status: int
    code: str
    trace_id: str = ""
    detail: str = ""
    instance: str | None = None
    errors: list[FieldError] | None = None
    extensions: dict[str, Any] = msgspec.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.instance:
            body["instance"] = self.instance
        body["code"] = self.code
        body["trace_id"] = self.trace_id
        if self.errors:
            body["errors"] = [msgspec.structs.asdict(e) for e in self.errors]
        if self.extensions:
            for key, value in self.extensions.items():
                body.setdefault(key, value)
            body["context"] = dict(self.extensions)
        return body

    def to_json(self) -> bytes:
        return msgspec.json.encode(self.to_dict())

    def to_sse_error(self) -> dict[str, Any]:
        """The payload of an SSE ``error`` event (K-11.5)."""
        payload: dict[str, Any] = {"code": self.code, "message": self.detail or self.title}
        payload.update(self.extensions)
        return payload


def problem_type_for(code: str) -> str:
    return f"urn:fabrikit:problem:{code}"


class DomainError(Exception):
    """Base of every error a module lets reach a client.

    Subclasses set ``code``, ``status`` and ``title``; instances carry the occurrence ``detail`` and the values of
    the extension members the class declares in ``extensions``.
    """

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    type: ClassVar[str | None] = None
    extensions: ClassVar[tuple[str, ...]] = ()
    legacy: ClassVar[bool] = False
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self, detail: str = "", *, errors: list[FieldError] | None = None, **extensions: Any
    ) -> None:
        unknown = set(extensions) - set(self.extensions)
        if unknown:
            raise TypeError(f"{type(self).__name__} does not declare extension(s) {sorted(unknown)}")
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extension_values = extensions

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.legacy and not _CODE_RE.match(cls.code):
            raise TypeError(
                f"{cls.__name__}.code {cls.code!r} must match {_CODE_RE.pattern} (or set legacy=True)"
            )
        if not 400 <= cls.status <= 599:
            raise TypeError(f"{cls.__name__}.status {cls.status} must be within 400..599")
        if not cls.title:
            raise TypeError(f"{cls.__name__} needs a title")

    def to_problem(self, *, trace_id: str = "", instance: str | None = None) -> Problem:
        return Problem(
            type=self.type or problem_type_for(self.code),
            title=self.title,
            status=self.status,
            code=self.code,
            detail=self.detail,
            trace_id=trace_id,
            instance=instance,
            errors=self.errors,
            extensions={k: v for k, v in self.extension_values.items() if v is not None},
        )

    def response_headers(self) -> dict[str, str]:
        return dict(self.headers)


class InvalidArgument(DomainError):
    code, status, title = "invalid_argument", 400, "Invalid argument"


class Unauthenticated(DomainError):
    code, status, title = "unauthenticated", 401, "Unauthenticated"


class PermissionDenied(DomainError):
    code, status, title = "permission_denied", 403, "Permission denied"


class NotFound(DomainError):
    code, status, title = "not_found", 404, "Not found"


class Conflict(DomainError):
    code, status, title = "conflict", 409, "Conflict"


class Unprocessable(DomainError):
    code, status, title = "unprocessable", 422, "Unprocessable content"


class ResourceExhausted(DomainError):
    code, status, title = "rate_limited", 429, "Too many requests"


class Internal(DomainError):
    code, status, title = "internal_error", 500, "Internal Server Error"

    def __init__(self, detail: str = "", **extensions: Any) -> None:
        # The cause of an internal error is logged, never shown.
        super().__init__("An internal error occurred.", **extensions)
        self.internal_detail = detail


class Unavailable(DomainError):
    code, status, title = "service_unavailable", 503, "Service unavailable"


class DeadlineExceeded(DomainError):
    code, status, title = "timeout", 504, "Timeout"


class ErrorCatalog:
    """Checks at import time that a module's error codes are unique (K-11.1)."""

    def __init__(self, module: str, *errors: type[DomainError]) -> None:
        seen: dict[str, type[DomainError]] = {}
        for err in errors:
            if err.code in seen and seen[err.code] is not err:
                raise TypeError(
                    f"module {module!r}: error code {err.code!r} used by both "
                    f"{seen[err.code].__name__} and {err.__name__}"
                )
            seen[err.code] = err
        self.module = module
        self.errors = dict(seen)

    def __contains__(self, code: str) -> bool:
        return code in self.errors
