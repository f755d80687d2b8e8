"""static-authn: accept-all for development, or a fixed token table (P-2.3, P-2.4)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any, Literal
from uuid import UUID

import msgspec

from fabrikit.kernel import ConfigStruct, PluginContext, PluginDef, hookimpl
from fabrikit.kernel.security import DEFAULT_SUBJECT_ID, DEFAULT_TENANT_ID, NIL_UUID, Secret, SecurityContext
from fabrikit.modules.authn_resolver.sdk import (
    AUTHN_PLUGIN_SPEC_ID,
    AuthenticationResult,
    ClientCredentialsRequest,
    TokenAcquisitionFailed,
    Unauthorized,
)

INSTANCE_ID = AUTHN_PLUGIN_SPEC_ID + "hyperspot.builtin.static_authn_resolver.plugin.v1"


class Identity(ConfigStruct):
    subject_id: UUID = DEFAULT_SUBJECT_ID
    subject_tenant_id: UUID = DEFAULT_TENANT_ID
    token_scopes: tuple[str, ...] = ("*",)
    subject_type: str | None = None

    def validate(self) -> None:
        if self.subject_id == NIL_UUID or self.subject_tenant_id == NIL_UUID:
            raise ValueError("identity ids must not be the nil UUID")


class TokenEntry(ConfigStruct):
    token: Secret
    identity: Identity = msgspec.field(default_factory=Identity)


class S2SCredential(ConfigStruct):
    client_id: str
    client_secret: Secret
    identity: Identity = msgspec.field(default_factory=Identity)


class StaticAuthnConfig(ConfigStruct):
    mode: Literal["accept_all", "static_tokens"] = "accept_all"
    default_identity: Identity = msgspec.field(default_factory=Identity)
    tokens: tuple[TokenEntry, ...] = ()
    s2s_credentials: tuple[S2SCredential, ...] = ()

    def validate(self) -> None:
        seen_tokens = [t.token.reveal() for t in self.tokens]
        if len(set(seen_tokens)) != len(seen_tokens):
            raise ValueError("tokens: duplicate token")
        ids = [c.client_id for c in self.s2s_credentials]
        if len(set(ids)) != len(ids):
            raise ValueError("s2s_credentials: duplicate client_id")


def _context(identity: Identity, token: str | None) -> SecurityContext:
    return SecurityContext(
        subject_id=identity.subject_id,
        subject_tenant_id=identity.subject_tenant_id,
        subject_type=identity.subject_type,
        token_scopes=tuple(identity.token_scopes),
        bearer_token=Secret(token) if token is not None else None,
    )


class StaticAuthnPlugin:
    def __init__(self, config: StaticAuthnConfig) -> None:
        self._cfg = config
        # Each configured token's result, built once (results are immutable).
        self._tokens = [
            (t.token.reveal().encode(), AuthenticationResult(_context(t.identity, t.token.reveal())))
            for t in config.tokens
        ]
        self._last: tuple[str, AuthenticationResult] | None = None
        self._clients = {c.client_id: c for c in config.s2s_credentials}

    async def authenticate(self, bearer_token: str) -> AuthenticationResult:
        token = (bearer_token or "").strip()
        if not token:
            raise Unauthorized("empty bearer token")
        if self._cfg.mode == "accept_all":
            # Results are immutable: a client repeating its token (the usual dev session) gets the same one.
            last = self._last
            if last is None or last[0] != token:
                last = self._last = (token, AuthenticationResult(_context(self._cfg.default_identity, token)))
            return last[1]
        presented = token.encode()
        match = None
        for known, result in self._tokens:  # compare against every entry: timing reveals nothing
            if hmac.compare_digest(known, presented):
                match = result
        if match is None:
            raise Unauthorized("unknown token")
        return match

    async def exchange_client_credentials(self, request: ClientCredentialsRequest) -> AuthenticationResult:
        cred = self._clients.get(request.client_id)
        presented = request.client_secret.reveal().encode()
        expected = cred.client_secret.reveal().encode() if cred else b"\0" * max(len(presented), 1)
        if not hmac.compare_digest(expected, presented) or cred is None:
            raise TokenAcquisitionFailed("invalid client credentials")
        return AuthenticationResult(_context(cred.identity, None))

    def __repr__(self) -> str:
        return f"StaticAuthnPlugin(mode={self._cfg.mode!r}, tokens={len(self._tokens)}, clients={len(self._clients)})"


def _factory(pctx: PluginContext) -> StaticAuthnPlugin:
    cfg: StaticAuthnConfig = pctx.config
    if cfg.mode == "accept_all":
        pctx.logger.warning("authn_accept_all", detail="static-authn accepts every bearer token (dev mode)")
    return StaticAuthnPlugin(cfg)


DEFINITION = PluginDef(
    name="static-authn",
    host="authn-resolver",
    spec_id=AUTHN_PLUGIN_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=_factory,
    config_type=StaticAuthnConfig,
    description="Static authentication: accept_all (dev) or static_tokens",
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    register(DEFINITION)
