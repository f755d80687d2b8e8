"""Security primitives shared by every SDK (K-13, P-0.2): Secret, SecurityContext, AccessScope. Pure."""

from ._context import (
    DEFAULT_SUBJECT_ID,
    DEFAULT_TENANT_ID,
    NIL_UUID,
    PLUGIN_BASE_SCHEMA_ID,
    MissingSubjectId,
    MissingSubjectTenantId,
    SecurityContext,
    SecurityContextBuilder,
)
from ._scope import (
    OWNER_ID,
    OWNER_TENANT_ID,
    RESOURCE_ID,
    AccessScope,
    Constraint,
    Eq,
    In,
    InGroup,
    InGroupSubtree,
    Predicate,
    ScopeValue,
)
from ._secret import REDACTED, Secret, refuse_secret_enc_hook, secret_dec_hook

__all__ = [
    "DEFAULT_SUBJECT_ID",
    "DEFAULT_TENANT_ID",
    "NIL_UUID",
    "OWNER_ID",
    "OWNER_TENANT_ID",
    "PLUGIN_BASE_SCHEMA_ID",
    "REDACTED",
    "RESOURCE_ID",
    "AccessScope",
    "Constraint",
    "Eq",
    "In",
    "InGroup",
    "InGroupSubtree",
    "MissingSubjectId",
    "MissingSubjectTenantId",
    "Predicate",
    "ScopeValue",
    "Secret",
    "SecurityContext",
    "SecurityContextBuilder",
    "refuse_secret_enc_hook",
    "secret_dec_hook",
]
