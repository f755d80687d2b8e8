"""authn-resolver's public face: turn a bearer token or client credentials into a SecurityContext (P-2)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec

from fabrikit.kernel.errors import Internal, Unauthenticated, Unavailable
from fabrikit.kernel.plugins import PluginSpec
from fabrikit.kernel.security import (
    DEFAULT_SUBJECT_ID,
    DEFAULT_TENANT_ID,
    NIL_UUID,
    AccessScope,
    Secret,
    SecurityContext,
)

AUTHN_PLUGIN_SPEC_ID = "gts.x.core.modkit.plugin.v1~x.core.authn_resolver.plugin.v1~"


class AuthenticationResult(msgspec.Struct, frozen=True):
    security_context: SecurityContext


class ClientCredentialsRequest(msgspec.Struct, frozen=True):
    client_id: str
    client_secret: Secret
    scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"ClientCredentialsRequest(client_id={self.client_id!r}, client_secret=[REDACTED], scopes={self.scopes!r})"


@runtime_checkable
class AuthnResolverClient(Protocol):
    async def authenticate(self, bearer_token: str) -> AuthenticationResult: ...

    async def exchange_client_credentials(
        self, request: ClientCredentialsRequest
    ) -> AuthenticationResult: ...


@runtime_checkable
class AuthnResolverPlugin(Protocol):
    """What an authn plugin implements; the same methods as the client."""

    async def authenticate(self, bearer_token: str) -> AuthenticationResult: ...

    async def exchange_client_credentials(
        self, request: ClientCredentialsRequest
    ) -> AuthenticationResult: ...


AUTHN_PLUGIN_SPEC = PluginSpec(
    AUTHN_PLUGIN_SPEC_ID,
    AuthnResolverPlugin,
    description="Authentication resolver plugin (bearer tokens, S2S)",
)


class Unauthorized(Unauthenticated):
    code, status, title = "unauthenticated", 401, "Authentication failed"


class NoPluginAvailable(Unavailable):
    code, status, title = "authn_unavailable", 503, "Authentication service unavailable"


class ServiceUnavailable(Unavailable):
    code, status, title = "authn_unavailable", 503, "Authentication service unavailable"


class TokenAcquisitionFailed(Unauthenticated):
    code, status, title = "token_acquisition_failed", 401, "Token acquisition failed"


class AuthnInternal(Internal):
    pass


__all__ = [
    "AUTHN_PLUGIN_SPEC",
    "AUTHN_PLUGIN_SPEC_ID",
    "DEFAULT_SUBJECT_ID",
    "DEFAULT_TENANT_ID",
    "NIL_UUID",
    "AccessScope",
    "AuthenticationResult",
    "AuthnInternal",
    "AuthnResolverClient",
    "AuthnResolverPlugin",
    "ClientCredentialsRequest",
    "NoPluginAvailable",
    "Secret",
    "SecurityContext",
    "ServiceUnavailable",
    "TokenAcquisitionFailed",
    "Unauthorized",
]
