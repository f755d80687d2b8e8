"""Problem+json errors shared by every module (K-11). Pure: imports msgspec only."""

from ._problem import (
    PROBLEM_CONTENT_TYPE,
    Conflict,
    DeadlineExceeded,
    DomainError,
    ErrorCatalog,
    FieldError,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Problem,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unprocessable,
    problem_type_for,
)

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "Conflict",
    "DeadlineExceeded",
    "DomainError",
    "ErrorCatalog",
    "FieldError",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "Unprocessable",
    "problem_type_for",
]
