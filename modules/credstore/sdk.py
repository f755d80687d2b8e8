"""credstore's public face: tenant-scoped secrets by ``cred://`` reference (P-5)."""

from __future__ import annotations

import hmac
import re
from typing import Any, Literal, Protocol, runtime_checkable
from uuid import UUID

import msgspec

from fabrikit.kernel.errors import Internal, InvalidArgument, Unavailable
from fabrikit.kernel.plugins import PluginSpec
from fabrikit.kernel.security import REDACTED, SecurityContext

CREDSTORE_PLUGIN_SPEC_ID = "gts.x.core.modkit.plugin.v1~x.core.credstore.plugin.v1~"
SECRET_REF_PREFIX = "cred://"
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")

Sharing = Literal["private", "tenant", "shared"]
SHARING_MODES: tuple[str, ...] = ("private", "tenant", "shared")


class InvalidSecretRef(InvalidArgument):
    code, status, title = "invalid_secret_ref", 400, "Invalid secret reference"


class NoPluginAvailable(Unavailable):
    code, status, title = "credstore_unavailable", 503, "Credential store unavailable"


class ServiceUnavailable(Unavailable):
    code, status, title = "credstore_unavailable", 503, "Credential store unavailable"


class CredStoreInternal(Internal):
    pass


# The offending text is never echoed: a value pasted where a reference belongs must not reach a message.
_INVALID_REF_DETAIL = (
    "a secret reference is 'cred://<name>' or '<name>', name = 1-255 characters of [A-Za-z0-9_-]"
)


class SecretRef(msgspec.Struct, frozen=True):
    """A secret's name. ``SecretRef.parse("cred://openai-key") == SecretRef.parse("openai-key")``."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise InvalidSecretRef(_INVALID_REF_DETAIL)

    @classmethod
    def parse(cls, text: str | SecretRef) -> SecretRef:
        if isinstance(text, SecretRef):
            return text
        if not isinstance(text, str):
            raise InvalidSecretRef(_INVALID_REF_DETAIL)
        return cls(text.removeprefix(SECRET_REF_PREFIX))

    def __str__(self) -> str:
        return SECRET_REF_PREFIX + self.name


class SecretValue:
    """Secret bytes: ``repr``/``str``/``format`` give ``[REDACTED]``; msgspec and pickle refuse it."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes | str) -> None:
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, bytes | bytearray):
            raise TypeError("SecretValue wraps bytes or str")
        self._value = bytes(value)

    def reveal_bytes(self) -> bytes:
        return self._value

    def reveal_str(self) -> str:
        return self._value.decode("utf-8")

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretValue) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("SecretValue", self._value))

    def __len__(self) -> int:
        return len(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("SecretValue cannot be pickled")


class GetSecretResponse(msgspec.Struct, frozen=True, kw_only=True):
    value: SecretValue
    owner_tenant_id: UUID
    sharing: Sharing
    is_inherited: bool = False


class SecretMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """What a plugin returns; ``owner_id`` is set for private secrets only."""

    value: SecretValue
    owner_id: UUID | None
    sharing: Sharing
    owner_tenant_id: UUID


@runtime_checkable
class CredStoreClient(Protocol):
    async def get(self, ctx: SecurityContext, ref: SecretRef | str) -> GetSecretResponse | None:
        """The secret visible to ``ctx`` under ``ref``, or ``None``; ``InvalidSecretRef`` for a bad ref."""
        ...


@runtime_checkable
class CredStorePlugin(Protocol):
    async def get(self, ctx: SecurityContext, ref: SecretRef) -> SecretMetadata | None: ...


CREDSTORE_PLUGIN_SPEC = PluginSpec(
    CREDSTORE_PLUGIN_SPEC_ID, CredStorePlugin, description="Credential store plugin (secrets by reference)"
)


__all__ = [
    "CREDSTORE_PLUGIN_SPEC",
    "CREDSTORE_PLUGIN_SPEC_ID",
    "SECRET_REF_PREFIX",
    "SHARING_MODES",
    "CredStoreClient",
    "CredStoreInternal",
    "CredStorePlugin",
    "GetSecretResponse",
    "InvalidSecretRef",
    "NoPluginAvailable",
    "SecretMetadata",
    "SecretRef",
    "SecretValue",
    "SecurityContext",
    "ServiceUnavailable",
    "Sharing",
]
