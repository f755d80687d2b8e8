"""Who is calling: the immutable SecurityContext every SDK method takes first (K-13, P-2.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ._secret import Secret

NIL_UUID = UUID(int=0)
DEFAULT_TENANT_ID = UUID("00000000-df51-5b42-9538-d2b56b7ee953")
DEFAULT_SUBJECT_ID = UUID("11111111-6a88-4768-9dfc-6bcd5187d9ed")
PLUGIN_BASE_SCHEMA_ID = "gts.x.core.modkit.plugin.v1~"


class MissingSubjectId(ValueError):
    pass


class MissingSubjectTenantId(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SecurityContext:
    subject_id: UUID
    subject_tenant_id: UUID
    subject_type: str | None = None
    token_scopes: tuple[str, ...] = ()
    bearer_token: Secret | None = field(default=None, repr=False, compare=False)

    @classmethod
    def anonymous(cls) -> SecurityContext:
        return cls(subject_id=NIL_UUID, subject_tenant_id=NIL_UUID)

    @classmethod
    def builder(cls) -> SecurityContextBuilder:
        return SecurityContextBuilder()

    @property
    def is_anonymous(self) -> bool:
        return self.subject_id == NIL_UUID and self.subject_tenant_id == NIL_UUID

    @property
    def scopes_narrowed(self) -> bool:
        return bool(self.token_scopes) and "*" not in self.token_scopes

    def has_scope(self, scope: str) -> bool:
        return "*" in self.token_scopes or scope in self.token_scopes

    def to_dict(self) -> dict[str, Any]:
        """A loggable view: the bearer token is never included."""
        return {
            "subject_id": str(self.subject_id),
            "subject_tenant_id": str(self.subject_tenant_id),
            "subject_type": self.subject_type,
            "token_scopes": list(self.token_scopes),
        }


class SecurityContextBuilder:
    def __init__(self) -> None:
        self._fields: dict[str, Any] = {}

    def subject_id(self, value: UUID) -> SecurityContextBuilder:
        self._fields["subject_id"] = value
        return self

    def subject_tenant_id(self, value: UUID) -> SecurityContextBuilder:
        self._fields["subject_tenant_id"] = value
        return self

    def subject_type(self, value: str | None) -> SecurityContextBuilder:
        self._fields["subject_type"] = value
        return self

    def token_scopes(self, value: tuple[str, ...] | list[str]) -> SecurityContextBuilder:
        self._fields["token_scopes"] = tuple(value)
        return self

    def bearer_token(self, value: Secret | str | None) -> SecurityContextBuilder:
        self._fields["bearer_token"] = Secret(value) if isinstance(value, str) else value
        return self

    def build(self) -> SecurityContext:
        if "subject_id" not in self._fields:
            raise MissingSubjectId("security context needs a subject_id")
        if "subject_tenant_id" not in self._fields:
            raise MissingSubjectTenantId("security context needs a subject_tenant_id")
        return SecurityContext(**self._fields)
