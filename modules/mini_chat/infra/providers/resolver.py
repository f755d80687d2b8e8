"""Which upstream serves a provider call: the provider entry, or the caller tenant's override (C-21, CI-13).

Every target (a provider, or one tenant override of it) is an oagw upstream in the service tenant, told apart by
its alias. oagw derives the alias of a host name itself (G-3.3) and refuses any other, so an override needs its own
host, or an IP host with its own ``upstream_alias``; clashes are refused here, at start, naming the config key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlsplit
from uuid import UUID

import msgspec

from fabrikit.kernel.errors import Internal, InvalidArgument

from ...config import AuthOverride, ProviderEntry, ProviderKind

APIKEY_AUTH_ID = "gts.x.core.oagw.auth_plugin.v1~x.core.oagw.apikey.v1"
_RAG_ROOTS = {"openai": "/v1", "azure": "/openai"}


class ProviderConfigError(InvalidArgument):
    """A provider entry cannot be turned into oagw upstreams; the message names the config key."""

    code = "invalid_provider_config"
    title = "Invalid provider configuration"


class ProviderNotConfigured(Internal):
    code = "provider_not_configured"
    title = "Provider not configured"


class UpstreamTarget(msgspec.Struct, frozen=True, kw_only=True):
    """One oagw upstream mini-chat needs: a provider (``tenant_id`` None) or a tenant override of it."""

    provider_id: str
    tenant_id: UUID | None
    kind: ProviderKind
    alias: str
    host: str
    port: int
    scheme: str
    auth_type: str | None
    auth_config: dict[str, str]
    api_path: str  # path template, ``{model}`` kept, no query
    api_query: tuple[tuple[str, str], ...]
    storage_kind: str
    api_version: str | None

    @property
    def config_key(self) -> str:
        base = f"modules.mini-chat.config.providers.{self.provider_id}"
        return base if self.tenant_id is None else f"{base}.tenant_overrides.{self.tenant_id}"

    def path_for(self, model: str) -> str:
        """The upstream path with ``{model}`` filled in (one path segment; an encoded ``/`` is refused by oagw)."""
        return self.api_path.replace("{model}", quote(model, safe="-._~"))

    @property
    def llm_route_path(self) -> str:
        """The route prefix: the static segments before the first one holding ``{model}``."""
        static: list[str] = []
        for segment in self.api_path.split("/")[1:]:
            if "{" in segment:
                break
            static.append(segment)
        return "/" + "/".join(static)

    @property
    def rag_root(self) -> str:
        """Where the Files and vector-store APIs live for this storage kind."""
        return _RAG_ROOTS.get(self.storage_kind, "/v1")

    @property
    def rag_route_paths(self) -> tuple[str, ...]:
        return (f"{self.rag_root}/files", f"{self.rag_root}/vector_stores")

    @property
    def rag_query(self) -> tuple[tuple[str, str], ...]:
        """Azure storage calls carry ``api-version`` (CI-13.5)."""
        return (
            (("api-version", self.api_version),) if self.storage_kind == "azure" and self.api_version else ()
        )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def derived_alias(host: str, port: int, scheme: str) -> str:
    """oagw's alias for one host name (G-3.3): the host, plus ``:port`` when not standard for the scheme."""
    base = host.strip().lower().rstrip(".")
    standard = 80 if scheme == "http" else 443
    return base if port == standard else f"{base}:{port}"


def _alias(key: str, host: str, port: int, scheme: str, explicit: str | None) -> str:
    if _is_ip(host):
        if not explicit:
            raise ProviderConfigError(f"{key}.upstream_alias: required when the host is an IP address")
        return explicit.strip().lower()
    derived = derived_alias(host, port, scheme)
    if explicit and explicit.strip().lower().rstrip(".") != derived:
        raise ProviderConfigError(
            f"{key}.upstream_alias: oagw derives {derived!r} for a host name; leave it unset or use that value"
        )
    return derived


def _auth(auth_type: str | None, auth: AuthOverride | None) -> tuple[str | None, dict[str, str]]:
    if auth is None:
        return auth_type, {}
    config = {"header": auth.header, "prefix": auth.prefix, "secret_ref": auth.secret_ref}
    return auth_type or APIKEY_AUTH_ID, config


def _split_api_path(key: str, entry: ProviderEntry) -> tuple[str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(entry.effective_api_path)
    if not parts.path.startswith("/") or parts.scheme or parts.netloc or parts.fragment:
        raise ProviderConfigError(f"{key}.api_path: must be a path starting with '/'")
    query = list(parse_qsl(parts.query, keep_blank_values=True))
    if (
        entry.kind == "azure_openai_responses"
        and entry.api_version
        and all(k != "api-version" for k, _ in query)
    ):
        query.append(("api-version", entry.api_version))
    return parts.path, tuple(query)


def _targets_of(provider_id: str, entry: ProviderEntry) -> list[UpstreamTarget]:
    key = f"modules.mini-chat.config.providers.{provider_id}"
    scheme = "http" if entry.use_http else "https"
    port = entry.effective_port
    api_path, api_query = _split_api_path(key, entry)
    auth_type, auth_config = _auth(entry.auth_plugin_type, entry.auth_config)
    base = UpstreamTarget(
        provider_id=provider_id,
        tenant_id=None,
        kind=entry.kind,
        alias=_alias(key, entry.host, port, scheme, entry.upstream_alias),
        host=entry.host,
        port=port,
        scheme=scheme,
        auth_type=auth_type,
        auth_config=auth_config,
        api_path=api_path,
        api_query=api_query,
        storage_kind=entry.storage_kind,
        api_version=entry.api_version,
    )
    targets = [base]
    for raw_tenant, override in entry.tenant_overrides.items():
        okey = f"{key}.tenant_overrides.{raw_tenant}"
        try:
            tenant = UUID(raw_tenant)
        except ValueError:
            raise ProviderConfigError(f"{okey}: the key must be a tenant UUID") from None
        host = override.host or entry.host
        # An override names a different upstream: an alias given for the entry does not carry over.
        explicit = override.upstream_alias if (override.host or override.upstream_alias) else None
        alias = _alias(okey, host, port, scheme, explicit)
        o_type, o_config = _auth(override.auth_plugin_type or auth_type, override.auth_config)
        if override.auth_config is None:
            o_config = auth_config
        targets.append(
            msgspec.structs.replace(
                base, tenant_id=tenant, alias=alias, host=host, auth_type=o_type, auth_config=o_config
            )
        )
    return targets


def _upstream_shape(target: UpstreamTarget) -> tuple[object, ...]:
    return (
        target.host,
        target.port,
        target.scheme,
        target.auth_type,
        tuple(sorted(target.auth_config.items())),
    )


class ProviderResolver:
    """``resolve(provider_id, tenant_id)`` → the target serving that tenant: its override first, else the entry."""

    def __init__(self, providers: Mapping[str, ProviderEntry]) -> None:
        self._providers = dict(providers)
        self._targets: dict[tuple[str, UUID | None], UpstreamTarget] = {}
        by_alias: dict[str, UpstreamTarget] = {}
        for provider_id, entry in self._providers.items():
            for target in _targets_of(provider_id, entry):
                self._targets[(provider_id, target.tenant_id)] = target
                other = by_alias.setdefault(target.alias, target)
                if _upstream_shape(other) != _upstream_shape(target):
                    raise ProviderConfigError(
                        f"{target.config_key}: upstream alias {target.alias!r} is already used by "
                        f"{other.config_key} with another host or credentials; give it its own host "
                        "(or an IP host with its own upstream_alias)"
                    )

    @property
    def provider_ids(self) -> tuple[str, ...]:
        return tuple(self._providers)

    def entry(self, provider_id: str) -> ProviderEntry:
        try:
            return self._providers[provider_id]
        except KeyError:
            raise ProviderNotConfigured(f"provider {provider_id!r} is not configured") from None

    def resolve(self, provider_id: str, tenant_id: UUID | None = None) -> UpstreamTarget:
        if tenant_id is not None:
            override = self._targets.get((provider_id, tenant_id))
            if override is not None:
                return override
        target = self._targets.get((provider_id, None))
        if target is None:
            raise ProviderNotConfigured(f"provider {provider_id!r} is not configured")
        return target

    def targets(self) -> list[UpstreamTarget]:
        """Every upstream to provision: each provider, then its tenant overrides."""
        return list(self._targets.values())
