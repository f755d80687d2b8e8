"""What OAuth2 auth plugins get from oagw (G-14.6): a token source with a per-process cache.

oagw registers an ``OAuth2TokenSource`` in the ClientHub (unscoped) during ``init``; the OAuth2 plugins fetch it in
their factory. Token calls go through oagw's guarded session, so the network policy (G-17) applies to them.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import msgspec

from fabrikit.kernel.security import Secret

from ._sdk_plugins import AuthContext

ClientAuthMethod = Literal["client_secret_post", "client_secret_basic"]


class ClientCredentialsGrant(msgspec.Struct, frozen=True, kw_only=True):
    """One client-credentials request; exactly one of ``token_endpoint`` / ``issuer_url`` (OIDC discovery)."""

    client_id: Secret
    client_secret: Secret
    token_endpoint: str | None = None
    issuer_url: str | None = None
    scopes: str | None = None
    auth_method: ClientAuthMethod = "client_secret_post"


@runtime_checkable
class OAuth2TokenSource(Protocol):
    async def client_credentials_token(self, actx: AuthContext, grant: ClientCredentialsGrant) -> Secret:
        """A cached or freshly fetched access token, cached under ``tenant:subject:plugin_id:sha256(config)``.

        Invalid configuration → ``ValidationError`` (400); a refused or failed fetch → ``AuthenticationFailedError``.
        Failures are never cached; one fetch per key runs at a time."""
        ...

    def evict(self, actx: AuthContext) -> None:
        """Forget the cached token of this caller and plugin config (after an upstream 401)."""
        ...
