"""OpenAPI problem responses per route (C-1.9); the gateway adds the common statuses to every operation."""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec

from fabrikit.kernel.errors import PROBLEM_CONTENT_TYPE

_DESCRIPTIONS = {
    400: "Bad request (invalid_json, validation_error, …)",
    403: "forbidden or license_required",
    404: "The resource does not exist for this caller",
    409: "Conflict (request_id_conflict, generation_in_progress, not_latest_turn)",
    413: "Payload too large",
    415: "Unsupported media",
    422: "Unprocessable (input_too_long, context_budget_exceeded, OData query errors)",
    429: "quota_exceeded with quota_scope",
    503: "service_unavailable",
}


class FieldErrorDoc(msgspec.Struct):
    field: str
    message: str
    code: str


class ProblemDoc(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details as mini-chat answers them (C-3.1)."""

    type: str
    title: str
    status: int
    code: str
    trace_id: str
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldErrorDoc] | None = None
    quota_scope: str | None = None


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=ProblemDoc,
            description=_DESCRIPTIONS.get(status, "Problem details"),
            media_type=PROBLEM_CONTENT_TYPE,
        )
        for status in statuses
    }
