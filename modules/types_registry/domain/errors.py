"""types-registry errors (P-1.5.1). Upper-case codes are the reference contract, kept verbatim."""

from __future__ import annotations

from typing import Any

from fabrikit.kernel import errors as kernel_errors


class TypesRegistryError(kernel_errors.DomainError):
    """Base of every types-registry error; ``code`` is the reference's upper-case token."""

    legacy = True
    code, status, title = "TYPES_REGISTRY_INTERNAL", 500, "Internal Server Error"


# Each error also derives from the kernel's generic class of the same status, so callers that only know the
# kernel hierarchy (``except NotFound``) still catch it.


class InvalidGtsId(TypesRegistryError, kernel_errors.InvalidArgument):
    code, status, title = "TYPES_REGISTRY_INVALID_GTS_ID", 400, "Invalid GTS ID"


class NotFound(TypesRegistryError, kernel_errors.NotFound):
    code, status, title = "TYPES_REGISTRY_NOT_FOUND", 404, "Entity not found"


class AlreadyExists(TypesRegistryError, kernel_errors.Conflict):
    code, status, title = "TYPES_REGISTRY_ALREADY_EXISTS", 409, "Entity already exists"


class ValidationFailed(TypesRegistryError, kernel_errors.Unprocessable):
    code, status, title = "TYPES_REGISTRY_VALIDATION_FAILED", 422, "Validation failed"


class NotReady(TypesRegistryError, kernel_errors.Unavailable):
    code, status, title = "TYPES_REGISTRY_NOT_READY", 503, "Service not ready"


class ActivationFailed(TypesRegistryError):
    """``post_init`` found invalid entities; ``failures`` holds one ``"<gts_id>: <message>"`` per problem."""

    code, status, title = "TYPES_REGISTRY_ACTIVATION_FAILED", 500, "Registry activation failed"

    def __init__(self, failures: list[str], **extensions: Any) -> None:
        count = len(failures)
        noun = "entity" if count == 1 else "entities"
        super().__init__(f"{count} {noun} failed validation: " + "; ".join(failures), **extensions)
        self.failures = list(failures)


class RegistrationFailed(TypesRegistryError):
    """Raised by ``ensure_all_ok`` when a caller's own registrations failed; ``failures`` lists them."""

    code, status, title = "TYPES_REGISTRY_REGISTRATION_FAILED", 422, "Registration failed"

    def __init__(self, detail: str, failures: list[Any] | None = None, **extensions: Any) -> None:
        super().__init__(detail, **extensions)
        self.failures = list(failures or [])


class Internal(TypesRegistryError, kernel_errors.Internal):
    """Unexpected failure; the kernel ``Internal`` keeps the cause out of the client-visible detail."""

    code, status, title = "TYPES_REGISTRY_INTERNAL", 500, "Internal Server Error"


class InvalidQuery(kernel_errors.InvalidArgument):
    """A list query that is not a GTS id problem (e.g. an unknown ``segment_scope``)."""

    code, status, title = "invalid_request", 400, "Invalid request"


ALL_ERRORS: tuple[type[kernel_errors.DomainError], ...] = (
    InvalidGtsId,
    NotFound,
    AlreadyExists,
    ValidationFailed,
    NotReady,
    ActivationFailed,
    RegistrationFailed,
    Internal,
    InvalidQuery,
)
