"""Client-facing data of the registry (P-1.4): list queries, per-item registration results, summaries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import msgspec

from .entity import GtsEntity
from .errors import RegistrationFailed

SegmentScope = Literal["primary", "any"]
SEGMENT_SCOPES: tuple[str, ...] = ("primary", "any")


class ListQuery(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of ``list`` (P-1.4.2), ANDed; vendor/package/namespace must hold on one and the same segment."""

    pattern: str | None = None
    is_schema: bool | None = None
    vendor: str | None = None
    package: str | None = None
    namespace: str | None = None
    segment_scope: SegmentScope = "any"


class RegisterOk(msgspec.Struct, frozen=True, tag="ok", tag_field="status"):
    entity: GtsEntity


class RegisterError(
    msgspec.Struct, frozen=True, tag="error", tag_field="status", kw_only=True, omit_defaults=True
):
    gts_id: str | None = None
    code: str
    error: str


RegisterResult = RegisterOk | RegisterError


class RegisterSummary(msgspec.Struct, frozen=True):
    total: int
    succeeded: int
    failed: int


def summarize(results: Iterable[RegisterResult]) -> RegisterSummary:
    items = list(results)
    succeeded = sum(1 for item in items if isinstance(item, RegisterOk))
    return RegisterSummary(total=len(items), succeeded=succeeded, failed=len(items) - succeeded)


def ensure_all_ok(results: Iterable[RegisterResult]) -> list[GtsEntity]:
    """The registered entities, or ``RegistrationFailed`` naming every failed item."""
    items = list(results)
    failures = [item for item in items if isinstance(item, RegisterError)]
    if failures:
        listed = "; ".join(f"{f.gts_id or '<no id>'}: [{f.code}] {f.error}" for f in failures)
        raise RegistrationFailed(
            f"{len(failures)} of {len(items)} GTS registration(s) failed: {listed}", failures=failures
        )
    return [item.entity for item in items if isinstance(item, RegisterOk)]
