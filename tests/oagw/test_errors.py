"""Error types and problem mapping (G-7.6, G-18.2)."""

from __future__ import annotations

import pytest

from fabrikit.kernel.errors import DomainError
from fabrikit.modules.oagw.sdk import (
    ALL_ERRORS,
    DownstreamError,
    GuardRejectedError,
    NotFoundError,
    OagwError,
    RateLimitExceededError,
    TargetBlockedError,
    ValidationError,
)

TABLE = {
    400: {
        "validation.error.v1",
        "routing.invalid_target_host.v1",
        "routing.unknown_target_host.v1",
        "guard.rejected.v1",
    },
    401: {"auth.failed.v1"},
    403: {
        "authz.forbidden.v1",
        "routing.target_blocked.v1",
        "cors.origin_not_allowed.v1",
        "cors.method_not_allowed.v1",
    },
    404: {"resource.not_found.v1", "route.not_found.v1", "plugin.not_found.v1"},
    409: {"resource.conflict.v1", "plugin.in_use.v1"},
    413: {"payload.too_large.v1"},
    429: {"rate_limit.exceeded.v1"},
    500: {"secret.not_found.v1"},
    502: {"downstream.error.v1", "protocol.error.v1", "stream.aborted.v1"},
    503: {"routing.upstream_disabled.v1", "link.unavailable.v1", "circuit_breaker.open.v1"},
    504: {"timeout.connection.v1", "timeout.request.v1", "timeout.idle.v1"},
}


def test_one_class_per_problem_type_with_gts_type_and_code() -> None:
    seen = {(cls.status, cls.problem_type.split("~x.oagw.", 1)[1]) for cls in ALL_ERRORS}
    assert seen == {(status, suffix) for status, suffixes in TABLE.items() for suffix in suffixes}
    for cls in ALL_ERRORS:
        assert issubclass(cls, OagwError)
        assert issubclass(cls, DomainError)
        assert cls.problem_type.startswith("gts.x.core.errors.err.v1~x.oagw.")
        assert cls.type == cls.problem_type
        suffix = cls.problem_type.split("~x.oagw.", 1)[1]
        assert cls.code == suffix.rsplit(".", 1)[0].replace(".", "_")


def test_problem_body() -> None:
    err = ValidationError("bad alias", instance="/oagw/v1/proxy/x/y")
    body = err.to_problem(trace_id="t").to_dict()
    assert body["type"] == "gts.x.core.errors.err.v1~x.oagw.validation.error.v1"
    assert (body["status"], body["code"], body["detail"], body["instance"]) == (
        400,
        "validation_error",
        "bad alias",
        "/oagw/v1/proxy/x/y",
    )
    assert err.response_headers()["X-OAGW-Error-Source"] == "gateway"
    assert RateLimitExceededError(2).to_problem().to_dict()["code"] == "rate_limit_exceeded"


def test_extensions() -> None:
    assert RateLimitExceededError(0.2).retry_after_secs == 1
    nf = NotFoundError("missing", entity="route")
    assert nf.entity == "route"
    assert nf.to_problem().to_dict()["entity"] == "route"
    guard = GuardRejectedError(418, "teapot", error_code="REQUIRED_HEADER_MISSING")
    assert (guard.status, guard.error_code) == (418, "REQUIRED_HEADER_MISSING")
    assert guard.to_problem().to_dict()["error_code"] == "REQUIRED_HEADER_MISSING"
    assert GuardRejectedError(302, "x").status == 400
    assert GuardRejectedError(700, "x").status == 400
    assert GuardRejectedError.status == 400


def test_downstream_internal_fault_is_500() -> None:
    assert DownstreamError("guard exploded", status=500).to_problem().status == 500
    assert DownstreamError().status == 502
    with pytest.raises(ValueError, match="500 or 502"):
        DownstreamError(status=503)


def test_target_blocked_default_detail_names_no_address() -> None:
    assert TargetBlockedError().detail == "The upstream address is not allowed by the network policy."
