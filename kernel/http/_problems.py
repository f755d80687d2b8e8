"""Exceptions → RFC 9457 problem+json responses (K-11.2, K-11.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from ..errors import PROBLEM_CONTENT_TYPE, DomainError, FieldError, Problem, problem_type_for
from ._trace import current_trace_id

_log = structlog.get_logger("fabrikit.http")
_MISSING_RE = re.compile(r"^Object missing required field `([^`]+)`")
_UNKNOWN_RE = re.compile(r"^Object contains unknown field `([^`]+)`")
_TYPE_RE = re.compile(r"^Expected `[^`]+`, got `[^`]+`")


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=problem.to_json(),
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )


def make_problem(status: int, code: str, title: str, detail: str = "", **extra: Any) -> Problem:
    return Problem(
        type=problem_type_for(code),
        title=title,
        status=status,
        code=code,
        detail=detail,
        trace_id=current_trace_id(),
        **extra,
    )


def field_errors(extra: Any) -> list[FieldError]:
    """Litestar's ``[{message, key, source}]`` → ``errors[]`` with a code per message kind (K-11.3)."""
    errors: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, Mapping):
            continue
        message = str(item.get("message", "invalid value"))
        key = str(item.get("key") or "")
        key = "" if key == "data" else key.removeprefix("data.")
        if m := _MISSING_RE.match(message):
            errors.append(FieldError(_join(key, m.group(1)), message, "missing_field"))
        elif m := _UNKNOWN_RE.match(message):
            errors.append(FieldError(_join(key, m.group(1)), message, "unknown_field"))
        elif _TYPE_RE.match(message):
            errors.append(FieldError(key, message, "invalid_type"))
        else:
            errors.append(FieldError(key, message, "invalid_value"))
    return errors


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _snake(phrase: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_") or "error"


def problem_for(
    exc: Exception, opt: Mapping[str, Any] | None = None, instance: str | None = None
) -> tuple[Problem, dict[str, str]]:
    trace_id = current_trace_id()
    opt = opt or {}
    if isinstance(exc, DomainError):
        if exc.status >= 500:
            _log.error(
                "request_failed",
                code=exc.code,
                error=getattr(exc, "internal_detail", exc.detail),
                trace_id=trace_id,
            )
        return exc.to_problem(trace_id=trace_id, instance=instance), exc.response_headers()
    if isinstance(exc, ValidationException | ClientException) and not isinstance(
        exc,
        NotFoundException | MethodNotAllowedException | NotAuthorizedException | PermissionDeniedException,
    ):
        is_validation = isinstance(exc, ValidationException)
        status = int(opt.get("validation_status", 400))
        code = str(opt.get("validation_code", "validation_error" if is_validation else "invalid_json"))
        if not is_validation and exc.status_code not in (400, 422):
            return _http_problem(exc, instance), dict(exc.headers or {})
        title = "Validation failed" if is_validation else "Malformed JSON"
        errors = field_errors(exc.extra) if is_validation else None
        detail = "The request did not pass validation." if is_validation else str(exc.detail)
        return make_problem(status, code, title, detail, errors=errors or None, instance=instance), {}
    if isinstance(exc, HTTPException):
        return _http_problem(exc, instance), dict(exc.headers or {})
    _log.error("unhandled_exception", trace_id=trace_id, exc_info=exc)
    return make_problem(
        500, "internal_error", "Internal Server Error", "An internal error occurred.", instance=instance
    ), {}


def _http_problem(exc: HTTPException, instance: str | None) -> Problem:
    status = exc.status_code
    mapping = {
        404: ("not_found", "Not found"),
        405: ("method_not_allowed", "Method not allowed"),
        401: ("unauthenticated", "Unauthenticated"),
        403: ("permission_denied", "Permission denied"),
    }
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    code, title = mapping.get(status, (_snake(phrase), phrase))
    detail = str(exc.detail) if exc.detail and exc.detail != phrase else ""
    return make_problem(status, code, title, detail, instance=instance)


def problem_exception_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    handler = request.scope.get("route_handler")
    opt = getattr(handler, "opt", None) if handler is not None else None
    problem, headers = problem_for(exc, opt, instance=request.url.path)
    return problem_response(problem, headers)
