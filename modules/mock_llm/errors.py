"""Errors the mock answers with, in OpenAI's shape ``{"error": {message, type, param, code}}`` (M-3.1)."""

from __future__ import annotations

from typing import Any

from fabrikit.kernel.errors import DomainError, ErrorCatalog, InvalidArgument, NotFound, Unauthenticated


class InvalidRequest(InvalidArgument):
    code, title = "invalid_request", "Invalid request"
    extensions = ("param",)


class UnknownDirective(InvalidArgument):
    code, title = "unknown_directive", "Unknown or invalid mock directive"
    extensions = ("param",)


class InvalidApiKey(Unauthenticated):
    code, title = "invalid_api_key", "Incorrect API key provided"


class UnknownObject(NotFound):
    code, title = "not_found", "No such object"
    extensions = ("param",)


class UploadTooLarge(DomainError):
    code, status, title = "file_too_large", 413, "Upload exceeds max_upload_bytes"


class ControlForbidden(DomainError):
    code, status, title = "control_forbidden", 403, "Control endpoints answer loopback clients only"


CATALOG = ErrorCatalog(
    "mock-llm",
    InvalidRequest,
    UnknownDirective,
    InvalidApiKey,
    UnknownObject,
    UploadTooLarge,
    ControlForbidden,
)


def openai_error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 404:
        return "not_found_error"
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def openai_error_body(
    status: int, message: str, code: str | None, param: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": openai_error_type(status), "param": param, "code": code}}


def error_body(exc: DomainError) -> dict[str, Any]:
    param = exc.extension_values.get("param")
    return openai_error_body(exc.status, exc.detail, exc.code, param if isinstance(param, str) else None)


def directive_error_body(status: int) -> dict[str, Any]:
    """The body of ``error=STATUS``: what a real provider says for that status."""
    if status == 429:
        return openai_error_body(status, "Rate limit reached (mock)", "rate_limit_exceeded")
    if status >= 500:
        return openai_error_body(status, f"The server had an error (mock status {status})", "server_error")
    return openai_error_body(status, f"Mock error status {status}", f"mock_error_{status}")
