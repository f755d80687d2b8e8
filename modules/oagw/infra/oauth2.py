"""OAuth2 client-credentials tokens (G-14.6): LRU + TTL cache, single flight, OIDC discovery, guarded session."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote, urlsplit

import aiohttp

from fabrikit.kernel.security import Secret, SecurityContext

from .._sdk_oauth2 import ClientCredentialsGrant
from ..domain.netpolicy import NetworkPolicy
from ..sdk import AuthContext, AuthenticationFailedError, OagwError, TargetBlockedError, ValidationError
from .metrics import SSRF_BLOCKED, TOKEN_CACHE

Clock = Callable[[], float]
EXPIRY_MARGIN_SECS = 30
_DISCOVERY_TTL_SECS = 3600.0


def token_cache_key(ctx: SecurityContext, plugin_id: str, config: Mapping[str, str]) -> str:
    """``tenant:subject:plugin_id:sha256(config)``; the config holds secret references, never secret values."""
    digest = hashlib.sha256(json.dumps(dict(config), sort_keys=True).encode()).hexdigest()
    return f"{ctx.subject_tenant_id}:{ctx.subject_id}:{plugin_id}:{digest}"


class TokenCache:
    """Per-process LRU of ``capacity`` entries, each kept ``min(ttl, expires_in - 30)`` seconds; one fetch per key
    at a time (concurrent callers await the same fetch); failures are not cached."""

    def __init__(self, *, ttl_secs: float, capacity: int, clock: Clock = time.monotonic) -> None:
        self.ttl_secs = ttl_secs
        self.capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Secret, float]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Secret]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def lifetime(self, expires_in: float | None) -> float:
        if expires_in is None:
            return self.ttl_secs
        return min(self.ttl_secs, expires_in - EXPIRY_MARGIN_SECS)

    def peek(self, key: str) -> Secret | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: str, token: Secret, expires_in: float | None) -> None:
        lifetime = self.lifetime(expires_in)
        if lifetime <= 0:
            return
        self._entries[key] = (token, self._clock() + lifetime)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def evict(self, key: str) -> None:
        self._entries.pop(key, None)

    async def get_or_fetch(
        self, key: str, fetch: Callable[[], Awaitable[tuple[Secret, float | None]]]
    ) -> Secret:
        cached = self.peek(key)
        if cached is not None:
            TOKEN_CACHE.labels(result="hit").inc()
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            TOKEN_CACHE.labels(result="shared").inc()
            return await asyncio.shield(pending)
        TOKEN_CACHE.labels(result="miss").inc()
        future: asyncio.Future[Secret] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            token, expires_in = await fetch()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        else:
            self.put(key, token, expires_in)
            future.set_result(token)
            return token
        finally:
            del self._inflight[key]


def _check_url(url: str, what: str, *, allow_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"{what} must be an absolute http(s) URL")
    if parts.scheme == "http" and not allow_http:
        raise ValidationError(f"{what} must use https (allow_http_upstream is false)")


class OAuth2Tokens:
    """The ``OAuth2TokenSource`` oagw registers in the hub; HTTP goes through the guarded session."""

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        policy: NetworkPolicy,
        *,
        ttl_secs: float,
        capacity: int,
        timeout_secs: float,
        allow_http: bool,
        clock: Clock = time.monotonic,
    ) -> None:
        self.cache = TokenCache(ttl_secs=ttl_secs, capacity=capacity, clock=clock)
        self._session = session
        self._policy = policy
        self._timeout = timeout_secs
        self._allow_http = allow_http
        self._clock = clock
        self._discovered: dict[str, tuple[str, float]] = {}
        self.fetches = 0

    async def client_credentials_token(self, actx: AuthContext, grant: ClientCredentialsGrant) -> Secret:
        if (grant.token_endpoint is None) == (grant.issuer_url is None):
            raise ValidationError("oauth2: set exactly one of token_endpoint or issuer_url")
        if not grant.client_id.reveal() or not grant.client_secret.reveal():
            raise ValidationError("oauth2: client id and client secret must not be empty")
        for url, what in ((grant.token_endpoint, "token_endpoint"), (grant.issuer_url, "issuer_url")):
            if url is not None:
                _check_url(url, what, allow_http=self._allow_http)
        key = token_cache_key(actx.security_context, actx.plugin_id, actx.config)
        return await self.cache.get_or_fetch(key, lambda: self._fetch(grant))

    def evict(self, actx: AuthContext) -> None:
        self.cache.evict(token_cache_key(actx.security_context, actx.plugin_id, actx.config))

    def evict_for(self, ctx: SecurityContext, plugin_id: str, config: Mapping[str, str]) -> None:
        self.cache.evict(token_cache_key(ctx, plugin_id, config))

    def _guard_ip_literal(self, url: str) -> None:
        # aiohttp skips the resolver for IP literals, so the DNS guard cannot see them: check here (G-17.3).
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            self._policy.check(host, port, [host])
        except TargetBlockedError:
            SSRF_BLOCKED.inc()
            raise

    async def _token_endpoint(self, grant: ClientCredentialsGrant) -> str:
        if grant.token_endpoint is not None:
            return grant.token_endpoint
        issuer = (grant.issuer_url or "").rstrip("/")
        cached = self._discovered.get(issuer)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        url = issuer + "/.well-known/openid-configuration"
        status, body = await self._call("GET", url, headers={"Accept": "application/json"})
        document = _json_object(body) if status == 200 else None
        endpoint = document.get("token_endpoint") if document else None
        if not isinstance(endpoint, str):
            raise AuthenticationFailedError("OIDC discovery did not yield a token endpoint")
        _check_url(endpoint, "discovered token_endpoint", allow_http=self._allow_http)
        self._discovered[issuer] = (endpoint, self._clock() + _DISCOVERY_TTL_SECS)
        return endpoint

    async def _fetch(self, grant: ClientCredentialsGrant) -> tuple[Secret, float | None]:
        endpoint = await self._token_endpoint(grant)
        form = {"grant_type": "client_credentials"}
        if grant.scopes:
            form["scope"] = grant.scopes
        headers = {"Accept": "application/json"}
        client_id, client_secret = grant.client_id.reveal(), grant.client_secret.reveal()
        if grant.auth_method == "client_secret_basic":
            pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form["client_id"] = client_id
            form["client_secret"] = client_secret
        self.fetches += 1
        status, body = await self._call("POST", endpoint, headers=headers, form=form)
        document = _json_object(body) if status == 200 else None
        token = document.get("access_token") if document else None
        if not isinstance(token, str) or not token:
            raise AuthenticationFailedError("the token endpoint refused the client credentials")
        expires_in = document.get("expires_in") if document else None
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else None
        return Secret(token), lifetime

    async def _call(
        self, method: str, url: str, *, headers: dict[str, str], form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        self._guard_ip_literal(url)
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session().request(
                    method, url, headers=headers, data=form, allow_redirects=False
                ) as resp:
                    return resp.status, await resp.content.read(1024 * 1024)
        except OagwError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError):
            raise AuthenticationFailedError("the token endpoint could not be reached") from None


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
