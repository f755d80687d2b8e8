"""authz-resolver errors: infrastructure errors of the client (P-3.2) and the PEP's 403s (P-3.3.3)."""

from __future__ import annotations

from fabrikit.kernel.errors import Internal, InvalidArgument, PermissionDenied, Unavailable

from ._models import DenyReason

GENERIC_FORBIDDEN_DETAIL = "You do not have permission to perform this action."


class NoPluginAvailable(Unavailable):
    code, status, title = "authz_unavailable", 503, "Authorization service unavailable"


class ServiceUnavailable(Unavailable):
    code, status, title = "authz_unavailable", 503, "Authorization service unavailable"


class AuthzInternal(Internal):
    pass


class Forbidden(PermissionDenied):
    """Base of the PEP's refusals: one generic body whatever the cause; the cause is only logged."""

    code, status, title = "forbidden", 403, "Forbidden"

    def __init__(self, _detail: str = "") -> None:
        # Whatever the caller passes, the body stays generic so a response never reveals why.
        super().__init__(GENERIC_FORBIDDEN_DETAIL)


class AccessDenied(Forbidden):
    """The PDP said no, or its constraints could not be compiled (fail-closed)."""

    def __init__(self, deny_reason: DenyReason | None = None, *, cause: str = "denied") -> None:
        super().__init__()
        self.deny_reason = deny_reason
        self.cause = cause


class EvaluationFailed(Forbidden):
    """The PDP could not be asked (error or timeout): access is refused, never granted."""

    def __init__(self, cause: str = "evaluation failed") -> None:
        super().__init__()
        self.cause = cause


class InvalidAccessRequest(InvalidArgument):
    """A programming error in the caller's ``AccessRequest`` (e.g. an unknown tenant mode)."""

    code, status, title = "invalid_access_request", 400, "Invalid access request"
