"""HTTP host contract shared by the REST host and rest modules (K-11.2, K-18). Imports litestar."""

from ._contract import OpenApiSource, RestHost
from ._operation import OPERATION_KEY, Operation, RateLimit, authenticated, operation, operation_of, public
from ._problems import field_errors, make_problem, problem_exception_handler, problem_for, problem_response
from ._registrar import RestRegistrar, RouteError, RouteInfo
from ._trace import (
    accept_request_id,
    bind_request,
    current_request_id,
    current_trace_id,
    new_request_id,
    trace_id_from_traceparent,
)

SECURITY_SCOPE_KEY = "fabrikit.security"

__all__ = [
    "OPERATION_KEY",
    "SECURITY_SCOPE_KEY",
    "OpenApiSource",
    "Operation",
    "RateLimit",
    "RestHost",
    "RestRegistrar",
    "RouteError",
    "RouteInfo",
    "accept_request_id",
    "authenticated",
    "bind_request",
    "current_request_id",
    "current_trace_id",
    "field_errors",
    "make_problem",
    "new_request_id",
    "operation",
    "operation_of",
    "problem_exception_handler",
    "problem_for",
    "problem_response",
    "public",
    "trace_id_from_traceparent",
]
