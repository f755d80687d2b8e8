"""The proxy pipeline (G-12), the same for REST and in-process callers, in the exact order of G-12.1/G-12.2.

Every gateway-side failure raises an ``OagwError`` (G-7.5); a returned ``ProxyResponse`` is always the upstream's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import structlog

from fabrikit.kernel import ClientHub, ClientScope
from fabrikit.kernel.security import SecurityContext

from .config import OagwConfig
from .domain.breaker import BreakerConfig, CircuitBreaker, Ticket, is_failure_status
from .domain.endpoints import authority, check_scheme_allowed, is_ipv4_literal, select_target_host
from .domain.headers import (
    TARGET_HOST_HEADER,
    apply_header_rules,
    check_request_framing,
    filter_request_headers,
    filter_response_headers,
)
from .domain.limiter import RateLimitDecision, RateLimiterRegistry, rate_limit_headers, rate_limit_key
from .domain.netpolicy import NetworkPolicy
from .domain.paths import build_url, check_query_allowlist, check_suffix_mode
from .domain.pool import EndpointPools
from .infra import metrics
from .infra.builtin_plugins import BUILTIN_AUTH, BUILTIN_GUARDS, BUILTIN_TRANSFORMS
from .infra.engine import AiohttpEngine, UpstreamReply
from .infra.oauth2 import OAuth2Tokens
from .sdk import (
    OAUTH2_CLIENT_CRED_AUTH_ID,
    OAUTH2_CLIENT_CRED_BASIC_AUTH_ID,
    PROXY_TYPE_ID,
    TRANSFORM_PLUGIN_SPEC_ID,
    AuthContext,
    AuthenticationFailedError,
    AuthPlugin,
    Body,
    ConnectionTimeoutError,
    DownstreamError,
    Endpoint,
    GuardContext,
    GuardPlugin,
    GuardRejectedError,
    IdleTimeoutError,
    LinkUnavailableError,
    OagwError,
    PayloadTooLargeError,
    PluginItem,
    ProtocolError,
    ProxyRequest,
    ProxyResponse,
    RateLimitConfig,
    RateLimitExceededError,
    Reject,
    RequestTimeoutError,
    Route,
    StreamAbortedError,
    TargetBlockedError,
    TransformErrorContext,
    TransformPlugin,
    TransformRequestContext,
    TransformResponseContext,
    Upstream,
    header_value,
)
from .service import OagwService, PlatformPort

_log = structlog.get_logger("fabrikit.modules.oagw")
_UPSTREAM_FAILURES = (
    ConnectionTimeoutError,
    RequestTimeoutError,
    IdleTimeoutError,
    LinkUnavailableError,
    StreamAbortedError,
    ProtocolError,
)
_OAUTH2_IDS = frozenset({OAUTH2_CLIENT_CRED_AUTH_ID, OAUTH2_CLIENT_CRED_BASIC_AUTH_ID})


class PluginDirectory:
    """Plugins by exact instance id (G-14.2): built-ins first, then the hub scoped by instance id."""

    def __init__(self, hub: ClientHub, *, fallback_auth: dict[str, AuthPlugin] | None = None) -> None:
        self._hub = hub
        self._fallback_auth = fallback_auth or {}

    def auth(self, plugin_id: str) -> AuthPlugin | None:
        found = BUILTIN_AUTH.get(plugin_id)
        found = found or self._hub.try_get_scoped(AuthPlugin, ClientScope.gts_id(plugin_id))  # type: ignore[type-abstract]
        return found or self._fallback_auth.get(plugin_id)

    def guard(self, plugin_id: str) -> GuardPlugin | None:
        found = BUILTIN_GUARDS.get(plugin_id)
        return found or self._hub.try_get_scoped(GuardPlugin, ClientScope.gts_id(plugin_id))  # type: ignore[type-abstract]

    def transform(self, plugin_id: str) -> TransformPlugin | None:
        found = BUILTIN_TRANSFORMS.get(plugin_id)
        return found or self._hub.try_get_scoped(TransformPlugin, ClientScope.gts_id(plugin_id))  # type: ignore[type-abstract]


class Breakers:
    """One breaker per effective upstream (G-19.1); off unless configured."""

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self._by_upstream: dict[str, CircuitBreaker] = {}

    def get(self, upstream: Upstream) -> CircuitBreaker | None:
        if not self.config.enabled:
            return None
        breaker = self._by_upstream.get(upstream.id)
        if breaker is None:
            breaker = self._by_upstream[upstream.id] = CircuitBreaker.from_config(self.config)
        return breaker


class _Call:
    """Per-request facts for the log line, the metrics and the breaker."""

    def __init__(self, ctx: SecurityContext, req: ProxyRequest) -> None:
        self.start = time.monotonic()
        self.ctx = ctx
        self.req = req
        self.label = req.alias.lower()
        self.host = ""
        self.ttfb_ms: float | None = None
        self.bytes_out = 0
        self.breaker: CircuitBreaker | None = None
        self.ticket: Ticket | None = None
        self.sent = False
        self.transforms: list[tuple[TransformPlugin, dict[str, str]]] = []

    def settle(self, failed: bool | None) -> None:
        """Record the breaker outcome once: ``True`` failure, ``False`` success, ``None`` neither."""
        if self.breaker is None or self.ticket is None:
            return
        ticket, self.ticket = self.ticket, None
        if failed is None:
            self.breaker.release(ticket)
        elif failed:
            self.breaker.record_failure(ticket)
        else:
            self.breaker.record_success(ticket)
        metrics.BREAKER_STATE.labels(upstream=self.label).set(self.breaker.state.gauge)


class ProxyPipeline:
    def __init__(
        self,
        *,
        config: OagwConfig,
        service: OagwService,
        platform: PlatformPort,
        engine: AiohttpEngine,
        policy: NetworkPolicy,
        plugins: PluginDirectory,
        limiters: RateLimiterRegistry,
        tokens: OAuth2Tokens | None = None,
        pools: EndpointPools | None = None,
    ) -> None:
        self.config = config
        self.service = service
        self.platform = platform
        self.engine = engine
        self.policy = policy
        self.plugins = plugins
        self.limiters = limiters
        self.tokens = tokens
        self.breakers = Breakers(BreakerConfig(**_struct_dict(config.circuit_breaker)))
        self.pools = pools if pools is not None else EndpointPools()

    # --- G-12.1 -------------------------------------------------------------------------------------------------
    async def run(
        self, ctx: SecurityContext, req: ProxyRequest, *, client_ip: str | None = None
    ) -> ProxyResponse:
        call = _Call(ctx, req)
        try:
            return await self._run(call, client_ip)
        except OagwError as exc:
            await self._failed(call, exc)
            raise
        except Exception as exc:
            _log.error("oagw_internal_error", alias=call.label, error=type(exc).__name__)
            error = DownstreamError("internal gateway error", status=500)
            await self._failed(call, error)
            raise error from None
        except BaseException:
            call.settle(None)
            raise

    async def _run(self, call: _Call, client_ip: str | None) -> ProxyResponse:
        ctx, req, cfg = call.ctx, call.req, self.config
        # 1. permission
        await self.platform.authorize(ctx, PROXY_TYPE_ID, "invoke")
        # 2. checks
        check_request_framing(req.headers, max_body_size=cfg.max_body_size_bytes)
        if req.body.size is not None and req.body.size > cfg.max_body_size_bytes:
            raise PayloadTooLargeError(f"body exceeds {cfg.max_body_size_bytes} bytes")
        # 3. resolve alias and route; breaker state
        target = await self.service.resolve(ctx, req.alias, req.method, req.path)
        upstream, route = target.upstream, target.route
        call.label = upstream.alias
        call.breaker = self.breakers.get(upstream)
        if call.breaker is not None:
            try:
                call.ticket = call.breaker.admit()
            finally:
                metrics.BREAKER_STATE.labels(upstream=call.label).set(call.breaker.state.gauge)
        # 5. query allowlist, 6. suffix mode
        check_query_allowlist(route.http, req.query)
        check_suffix_mode(route.http, req.path)
        # 7. header filtering (the target host is read first)
        target_host = header_value(req.headers, TARGET_HOST_HEADER)
        rules = upstream.headers.request if upstream.headers is not None else None
        headers = filter_request_headers(
            req.headers,
            rules.passthrough if rules is not None else "none",
            rules.passthrough_allowlist if rules is not None else (),
        )
        # 8. auth plugin
        headers = await self._authenticate(ctx, upstream, req, headers)
        # 9. request guards, first rejection wins
        items = _plugin_items(upstream, route)
        guards = [i for i in items if not i.plugin_ref.startswith(TRANSFORM_PLUGIN_SPEC_ID)]
        call.transforms = self._transforms(items)
        for item in guards:
            await self._check_request(item, req, headers)
        # 10. header rules
        headers = apply_header_rules(headers, rules)
        # 11. on_request transforms (may edit headers and query, not the path)
        query = list(req.query)
        for plugin, config in call.transforms:
            tctx = TransformRequestContext(
                method=req.method, path=req.path, query=query, headers=headers, config=dict(config)
            )
            try:
                await plugin.on_request(tctx)
                query, headers = list(tctx.query), [(k.lower(), v) for k, v in tctx.headers]
            except Exception as exc:
                _log.warning(
                    "oagw_transform_failed", alias=call.label, hook="on_request", error=type(exc).__name__
                )
        # 12. endpoint, 13. scheme, 14. network policy for IP literals and Host
        endpoint = self._endpoint(upstream, target_host)
        call.host = endpoint.host
        check_scheme_allowed(endpoint, allow_http_upstream=cfg.allow_http_upstream)
        if is_ipv4_literal(endpoint.host):
            try:
                self.policy.check(
                    endpoint.host,
                    endpoint.port,
                    [endpoint.host],
                    allow_private_network=upstream.allow_private_network,
                )
            except TargetBlockedError:
                metrics.SSRF_BLOCKED.inc()
                raise
        open_network = upstream.allow_private_network or self.policy.allowlist.matches_endpoint(
            endpoint.host, endpoint.port
        )
        headers = [(k, v) for k, v in headers if k != "host"]
        headers.append(("host", authority(endpoint)))
        # 15. rate limits
        decisions = self._rate_limit(call, upstream, route, client_ip)
        # 16. send
        body = self._counted(call, req.body)
        call.sent = True
        reply = await self.engine.send(
            method=req.method,
            url=build_url(endpoint, req.path, query),
            headers=headers,
            body=body,
            open_network=open_network,
            idle_timeout=self._idle_timeout,
        )
        call.ttfb_ms = _ms(call.start)
        metrics.REQUEST_DURATION.labels(upstream=call.label, method=req.method).observe(call.ttfb_ms / 1000)
        try:
            return await self._respond(call, upstream, guards, decisions, reply)
        except BaseException:
            await reply.close()
            raise

    # --- G-12.2 -------------------------------------------------------------------------------------------------
    async def _respond(
        self,
        call: _Call,
        upstream: Upstream,
        guards: Sequence[PluginItem],
        decisions: Sequence[RateLimitDecision],
        reply: UpstreamReply,
    ) -> ProxyResponse:
        req = call.req
        if is_failure_status(reply.status):
            call.settle(True)  # otherwise the body's end decides (an aborted stream is a failure)
        oauth2 = upstream.auth is not None and upstream.auth.type in _OAUTH2_IDS
        if reply.status == 401 and oauth2 and self.tokens is not None and upstream.auth is not None:
            self.tokens.evict_for(call.ctx, upstream.auth.type, upstream.auth.config)  # SHOULD (G-14.6)
        headers = list(reply.headers)
        for item in guards:
            guard = self.plugins.guard(item.plugin_ref)
            if guard is None:
                raise DownstreamError("a configured guard plugin is not available", status=500)
            gctx = GuardContext(
                method=req.method,
                path=req.path,
                headers=headers,
                config=dict(item.config),
                status=reply.status,
            )
            _raise_if_rejected(await _guarded(guard.check_response(gctx)))
        for plugin, config in call.transforms:
            rctx = TransformResponseContext(status=reply.status, headers=headers, config=dict(config))
            try:
                await plugin.on_response(rctx)
                headers = list(rctx.headers)
            except Exception as exc:
                _log.warning(
                    "oagw_transform_failed", alias=call.label, hook="on_response", error=type(exc).__name__
                )
        headers = apply_header_rules(headers, upstream.headers.response if upstream.headers else None)
        headers.extend(rate_limit_headers(decisions))
        headers = filter_response_headers(headers)
        headers.append(("x-oagw-error-source", "upstream"))
        metrics.IN_FLIGHT.labels(upstream=call.label).inc()
        finished = False

        async def finish() -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            call.settle(False)
            await reply.close()
            metrics.IN_FLIGHT.labels(upstream=call.label).dec()
            if call.ttfb_ms is not None:
                metrics.STREAM_DURATION.labels(upstream=call.label).observe(
                    max(0.0, _ms(call.start) - call.ttfb_ms) / 1000
                )
            self._log_line(call, reply.status, "upstream", None, reply.bytes_in)

        metrics.REQUESTS.labels(
            upstream=call.label,
            method=req.method,
            status_class=metrics.status_class(reply.status),
            error_source="upstream",
        ).inc()
        return ProxyResponse(reply.status, headers, self._body(call, reply), on_close=finish)

    async def _body(self, call: _Call, reply: UpstreamReply) -> AsyncIterator[bytes]:
        try:
            async for chunk in reply.iter_body():
                yield chunk
        except OagwError as exc:
            metrics.ERRORS.labels(upstream=call.label, error_type=exc.code).inc()
            call.settle(isinstance(exc, _UPSTREAM_FAILURES))
            await self._notify_error(call, exc)
            raise
        call.settle(False)

    # --- steps --------------------------------------------------------------------------------------------------
    async def _authenticate(
        self, ctx: SecurityContext, upstream: Upstream, req: ProxyRequest, headers: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        auth = upstream.auth
        if auth is None:
            return headers
        plugin = self.plugins.auth(auth.type)
        if plugin is None:
            raise AuthenticationFailedError("the upstream's auth plugin is not available")

        async def resolve(name: str) -> Any:
            return await self.platform.secret(ctx, name)

        actx = AuthContext(
            method=req.method,
            path=req.path,
            headers=headers,
            config=dict(auth.config),
            security_context=ctx,
            secret_resolver=resolve,
            plugin_id=auth.type,
        )
        try:
            await plugin.authenticate(actx)
        except OagwError:
            raise
        except Exception as exc:
            _log.warning("oagw_auth_plugin_failed", plugin_id=auth.type, error=type(exc).__name__)
            raise AuthenticationFailedError("authentication with the upstream failed") from None
        return [(k.lower(), v) for k, v in actx.headers]

    async def _check_request(
        self, item: PluginItem, req: ProxyRequest, headers: list[tuple[str, str]]
    ) -> None:
        guard = self.plugins.guard(item.plugin_ref)
        if guard is None:
            raise DownstreamError("a configured guard plugin is not available", status=500)
        gctx = GuardContext(method=req.method, path=req.path, headers=list(headers), config=dict(item.config))
        _raise_if_rejected(await _guarded(guard.check_request(gctx)))

    def _transforms(self, items: Sequence[PluginItem]) -> list[tuple[TransformPlugin, dict[str, str]]]:
        found: list[tuple[TransformPlugin, dict[str, str]]] = []
        for item in items:
            if not item.plugin_ref.startswith(TRANSFORM_PLUGIN_SPEC_ID):
                continue
            plugin = self.plugins.transform(item.plugin_ref)
            if plugin is None:
                _log.warning("oagw_transform_unknown", plugin_id=item.plugin_ref)
                continue
            found.append((plugin, dict(item.config)))
        return found

    def _endpoint(self, upstream: Upstream, target_host: str | None) -> Endpoint:
        endpoints = upstream.server.endpoints
        chosen = select_target_host(endpoints, target_host)
        if chosen is not None:
            return chosen
        return self.pools.pick(upstream)

    def _rate_limit(
        self, call: _Call, upstream: Upstream, route: Route, client_ip: str | None
    ) -> list[RateLimitDecision]:
        items: list[tuple[str, str, RateLimitConfig]] = []
        if upstream.rate_limit is not None:
            owner = upstream.id
            if upstream.rate_limit.scope == "route":
                owner = f"{upstream.id}:{route.id}"
            items.append(("upstream", owner, upstream.rate_limit))
        if route.rate_limit is not None:
            items.append(("route", route.id, route.rate_limit))
        decisions: list[RateLimitDecision] = []
        for level, owner, config in items:
            key = rate_limit_key(
                level,  # type: ignore[arg-type]
                owner,
                config,
                tenant_id=call.ctx.subject_tenant_id,
                subject_id=call.ctx.subject_id,
                ip=client_ip,
            )
            if config.strategy != "reject":
                _log.warning("oagw_rate_limit_strategy_unsupported", strategy=config.strategy)
            decision = self.limiters.check(key, config)
            decisions.append(decision)
            if not decision.allowed:
                metrics.RATE_LIMIT_REJECTIONS.labels(upstream=call.label, level=level).inc()
                raise RateLimitExceededError(
                    decision.retry_after_secs or 1,
                    rate_limit_headers=[h for h in rate_limit_headers(decisions) if h[0] != "Retry-After"],
                )
        return decisions

    def _idle_timeout(self, headers: list[tuple[str, str]]) -> float:
        content_type = (header_value(headers, "content-type") or "").strip().lower()
        if content_type.startswith("text/event-stream"):
            return self.config.streaming_idle_timeout_secs
        return self.config.proxy_timeout_secs

    def _counted(self, call: _Call, body: Body) -> Body:
        if not body.is_stream:
            call.bytes_out = body.size or 0
            return body

        async def counting() -> AsyncIterator[bytes]:
            async for chunk in body.stream():
                call.bytes_out += len(chunk)
                yield chunk

        return Body(counting())

    # --- failures -----------------------------------------------------------------------------------------------
    async def _failed(self, call: _Call, exc: OagwError) -> None:
        if exc.instance is None:
            exc.instance = f"/{call.req.alias}{call.req.path}"
        if call.sent and (
            isinstance(exc, _UPSTREAM_FAILURES) or (isinstance(exc, DownstreamError) and exc.status == 502)
        ):
            call.settle(True)
        else:
            call.settle(None)
        await self._notify_error(call, exc)
        metrics.ERRORS.labels(upstream=call.label, error_type=exc.code).inc()
        metrics.REQUESTS.labels(
            upstream=call.label,
            method=call.req.method,
            status_class=metrics.status_class(exc.status),
            error_source="gateway",
        ).inc()
        self._log_line(call, exc.status, "gateway", exc.code, 0)

    async def _notify_error(self, call: _Call, exc: OagwError) -> None:
        """G-12.3: ``on_error`` transforms are told; they cannot change the outcome."""
        for plugin, config in call.transforms:
            ectx = TransformErrorContext(
                type=exc.problem_type, status=exc.status, detail=exc.detail, config=config
            )
            try:
                await plugin.on_error(ectx)
            except Exception as err:
                _log.warning(
                    "oagw_transform_failed", alias=call.label, hook="on_error", error=type(err).__name__
                )

    def _log_line(self, call: _Call, status: int, source: str, error_type: str | None, bytes_in: int) -> None:
        """G-20.1: one line per request; never bodies, queries, credential headers or secrets."""
        _log.info(
            "oagw_request",
            request_id=header_value(call.req.headers, "x-request-id"),
            tenant_id=str(call.ctx.subject_tenant_id),
            subject_id=str(call.ctx.subject_id),
            alias=call.label,
            host=call.host,
            path=call.req.path,
            method=call.req.method,
            status=status,
            error_source=source,
            error_type=error_type,
            duration_ms=_ms(call.start),
            ttfb_ms=call.ttfb_ms,
            bytes_in=bytes_in,
            bytes_out=call.bytes_out,
        )


def _plugin_items(upstream: Upstream, route: Route) -> list[PluginItem]:
    """Upstream items run before route items; a route's own plugins always apply (G-5.4)."""
    items = list(upstream.plugins.items) if upstream.plugins is not None else []
    if route.plugins is not None:
        items.extend(route.plugins.items)
    return items


async def _guarded(awaitable: Any) -> Any:
    try:
        return await awaitable
    except OagwError:
        raise
    except Exception as exc:
        _log.warning("oagw_guard_failed", error=type(exc).__name__)
        raise DownstreamError("a guard plugin failed", status=500) from None


def _raise_if_rejected(decision: Any) -> None:
    if isinstance(decision, Reject):
        raise GuardRejectedError(decision.status, decision.detail, error_code=decision.error_code)


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 3)


def _struct_dict(value: Any) -> dict[str, Any]:
    import msgspec

    return msgspec.structs.asdict(value)
