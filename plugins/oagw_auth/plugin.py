"""The built-in oagw auth plugins, registered like any third-party plugin through ``fabrikit_register_plugins``.

Each reads its secrets through ``actx.secret(ref)`` (credstore, with the caller's context, on every request) and
never logs or echoes them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from fabrikit.kernel import PluginContext, PluginDef, hookimpl
from fabrikit.modules.oagw.sdk import (
    APIKEY_AUTH_ID,
    AUTH_PLUGIN_SPEC_ID,
    BASIC_AUTH_ID,
    BEARER_AUTH_ID,
    OAUTH2_CLIENT_CRED_AUTH_ID,
    OAUTH2_CLIENT_CRED_BASIC_AUTH_ID,
    AuthContext,
    ClientAuthMethod,
    ClientCredentialsGrant,
    OAuth2TokenSource,
    ValidationError,
)

HOST = "oagw"


def _required(actx: AuthContext, key: str) -> str:
    value = actx.config.get(key, "").strip()
    if not value:
        raise ValidationError(f"auth config needs '{key}'")
    return value


class ApiKeyAuth:
    """``header`` (lowercased), ``prefix`` (default ``""``), ``secret_ref`` → ``header: prefix + secret``."""

    async def authenticate(self, actx: AuthContext) -> None:
        header = _required(actx, "header").lower()
        secret = await actx.secret(_required(actx, "secret_ref"))
        actx.set_header(header, actx.config.get("prefix", "") + secret.reveal())


class BearerAuth:
    async def authenticate(self, actx: AuthContext) -> None:
        secret = await actx.secret(_required(actx, "secret_ref"))
        actx.set_header("authorization", "Bearer " + secret.reveal())


class BasicAuth:
    async def authenticate(self, actx: AuthContext) -> None:
        username = await actx.secret(_required(actx, "username_ref"))
        password = await actx.secret(_required(actx, "password_ref"))
        pair = f"{username.reveal()}:{password.reveal()}".encode()
        actx.set_header("authorization", "Basic " + base64.b64encode(pair).decode("ascii"))


class OAuth2ClientCredentialsAuth:
    """``token_endpoint`` or ``issuer_url``, ``client_id_ref``, ``client_secret_ref``, optional ``scopes``."""

    def __init__(self, tokens: OAuth2TokenSource, method: ClientAuthMethod) -> None:
        self._tokens = tokens
        self._method = method

    async def authenticate(self, actx: AuthContext) -> None:
        config = actx.config
        endpoint = config.get("token_endpoint") or None
        issuer = config.get("issuer_url") or None
        if (endpoint is None) == (issuer is None):
            raise ValidationError("oauth2 auth config needs exactly one of token_endpoint or issuer_url")
        grant = ClientCredentialsGrant(
            client_id=await actx.secret(_required(actx, "client_id_ref")),
            client_secret=await actx.secret(_required(actx, "client_secret_ref")),
            token_endpoint=endpoint,
            issuer_url=issuer,
            scopes=config.get("scopes") or None,
            auth_method=self._method,
        )
        token = await self._tokens.client_credentials_token(actx, grant)
        actx.set_header("authorization", "Bearer " + token.reveal())


def _tokens(pctx: PluginContext) -> OAuth2TokenSource:
    return pctx.hub.get(OAuth2TokenSource)  # type: ignore[no-any-return]


DEFINITIONS = (
    PluginDef(
        name="oagw-auth-apikey",
        host=HOST,
        spec_id=AUTH_PLUGIN_SPEC_ID,
        instance_id=APIKEY_AUTH_ID,
        factory=lambda pctx: ApiKeyAuth(),
        description="API key in a header (OpenAI: authorization/'Bearer '; Azure: api-key)",
    ),
    PluginDef(
        name="oagw-auth-bearer",
        host=HOST,
        spec_id=AUTH_PLUGIN_SPEC_ID,
        instance_id=BEARER_AUTH_ID,
        factory=lambda pctx: BearerAuth(),
        description="Authorization: Bearer <secret>",
    ),
    PluginDef(
        name="oagw-auth-oauth2-client-cred",
        host=HOST,
        spec_id=AUTH_PLUGIN_SPEC_ID,
        instance_id=OAUTH2_CLIENT_CRED_AUTH_ID,
        factory=lambda pctx: OAuth2ClientCredentialsAuth(_tokens(pctx), "client_secret_post"),
        description="OAuth2 client credentials, client id/secret in the form body",
    ),
    PluginDef(
        name="oagw-auth-oauth2-client-cred-basic",
        host=HOST,
        spec_id=AUTH_PLUGIN_SPEC_ID,
        instance_id=OAUTH2_CLIENT_CRED_BASIC_AUTH_ID,
        factory=lambda pctx: OAuth2ClientCredentialsAuth(_tokens(pctx), "client_secret_basic"),
        description="OAuth2 client credentials, client id/secret as HTTP Basic",
    ),
    PluginDef(
        name="oagw-auth-basic",
        host=HOST,
        spec_id=AUTH_PLUGIN_SPEC_ID,
        instance_id=BASIC_AUTH_ID,
        factory=lambda pctx: BasicAuth(),
        description="HTTP Basic from username_ref/password_ref",
    ),
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    for definition in DEFINITIONS:
        register(definition)


def auth_plugins(tokens: OAuth2TokenSource) -> dict[str, Any]:
    """The same plugin objects keyed by instance id, for a host that wires them without the plugin phase."""
    return {
        APIKEY_AUTH_ID: ApiKeyAuth(),
        BEARER_AUTH_ID: BearerAuth(),
        OAUTH2_CLIENT_CRED_AUTH_ID: OAuth2ClientCredentialsAuth(tokens, "client_secret_post"),
        OAUTH2_CLIENT_CRED_BASIC_AUTH_ID: OAuth2ClientCredentialsAuth(tokens, "client_secret_basic"),
        BASIC_AUTH_ID: BasicAuth(),
    }
