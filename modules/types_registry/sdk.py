"""types-registry public face (P-1.4): the client Protocol, its data, GTS ids and patterns, errors.

Other modules and plugins import from here only; the implementation lives in ``domain/``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from fabrikit.kernel.errors import ErrorCatalog

from .domain.entity import DEFAULT_ENTITY_ID_FIELDS, GtsEntity
from .domain.errors import (
    ALL_ERRORS,
    ActivationFailed,
    AlreadyExists,
    Internal,
    InvalidGtsId,
    InvalidQuery,
    NotFound,
    NotReady,
    RegistrationFailed,
    TypesRegistryError,
    ValidationFailed,
)
from .domain.gts_id import (
    GTS_ID_RE,
    GTS_NAMESPACE,
    GTS_URI_PREFIX,
    MAX_ID_LENGTH,
    GtsId,
    GtsSegment,
    gts_uuid,
)
from .domain.pattern import GtsPattern
from .domain.plugin_schema import BASE_PLUGIN_SCHEMA, plugin_spec_schema
from .domain.results import (
    ListQuery,
    RegisterError,
    RegisterOk,
    RegisterResult,
    RegisterSummary,
    SegmentScope,
    ensure_all_ok,
    summarize,
)
from .domain.validation import DRAFT_07, DRAFT_2020_12

MODULE_NAME = "types-registry"
ERRORS = ErrorCatalog(MODULE_NAME, *ALL_ERRORS)


@runtime_checkable
class TypesRegistryClient(Protocol):
    """What the registry offers other modules (published in the ClientHub by types-registry's ``init``)."""

    async def register(self, entities: Sequence[Mapping[str, Any]]) -> builtins.list[RegisterResult]:
        """One result per input, in order; stages before ready, validates fully after (P-1.3.2, P-1.3.4)."""
        ...

    async def get(self, gts_id: str) -> GtsEntity:
        """The entity with this exact id; ``NotFound``, ``NotReady``."""
        ...

    async def list(self, query: ListQuery | None = None) -> builtins.list[GtsEntity]:
        """Entities matching ``query``, sorted by ``gts_id``; ``InvalidGtsId`` (pattern), ``NotReady``."""
        ...

    def is_ready(self) -> bool: ...


__all__ = [
    "BASE_PLUGIN_SCHEMA",
    "DEFAULT_ENTITY_ID_FIELDS",
    "DRAFT_07",
    "DRAFT_2020_12",
    "ERRORS",
    "GTS_ID_RE",
    "GTS_NAMESPACE",
    "GTS_URI_PREFIX",
    "MAX_ID_LENGTH",
    "MODULE_NAME",
    "ActivationFailed",
    "AlreadyExists",
    "GtsEntity",
    "GtsId",
    "GtsPattern",
    "GtsSegment",
    "Internal",
    "InvalidGtsId",
    "InvalidQuery",
    "ListQuery",
    "NotFound",
    "NotReady",
    "RegisterError",
    "RegisterOk",
    "RegisterResult",
    "RegisterSummary",
    "RegistrationFailed",
    "SegmentScope",
    "TypesRegistryClient",
    "TypesRegistryError",
    "ValidationFailed",
    "ensure_all_ok",
    "gts_uuid",
    "plugin_spec_schema",
    "summarize",
]
