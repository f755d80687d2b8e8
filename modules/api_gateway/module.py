"""The api-gateway module: the one REST host (P-6)."""

from __future__ import annotations

import asyncio
from typing import Any

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext
from fabrikit.kernel.http import OpenApiSource, RestHost, RestRegistrar
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient

from .api.app import build_app
from .api.outer import flush_access_log
from .api.state import GatewayState
from .config import GatewayConfig
from .infra.metrics import metrics_payload
from .infra.server import UvicornServer


class _Host:
    """What other modules find in the hub: the drain signal, readiness and the OpenAPI document."""

    def __init__(self, state: GatewayState) -> None:
        self._state = state
        self.shutting_down: asyncio.Event = state.shutting_down
        self.document: dict[str, Any] = {}
        self.base_url = ""

    def is_ready(self) -> bool:
        return self._state.view.is_ready() and not self._state.draining

    def openapi_schema(self) -> dict[str, Any]:
        return self.document


class ApiGateway(Module):
    manifest = Manifest(
        "api-gateway",
        "0.1.0",
        deps=("authn-resolver",),
        capabilities={Capability.REST_HOST, Capability.REST, Capability.STATEFUL},
        stop_timeout=25.0,
        description="The REST host: one Litestar app on uvicorn, probes, OpenAPI and the middleware chain",
    )
    config_type = GatewayConfig

    def __init__(self) -> None:
        self.cfg: GatewayConfig | None = None
        self.state: GatewayState | None = None
        self.host: _Host | None = None
        self.server: UvicornServer | None = None
        self.asgi: Any = None

    async def init(self, ctx: ModuleContext) -> None:
        self.cfg = ctx.config
        if self.cfg.auth_disabled:
            ctx.logger.warning(
                "auth_disabled", detail="every request runs as the default dev identity; local use only"
            )

    def rest_prepare(self, ctx: ModuleContext) -> RestRegistrar:
        assert self.cfg is not None
        self.state = GatewayState(self.cfg, ctx.runtime)
        self.host = _Host(self.state)
        ctx.hub.register(RestHost, self.host)  # type: ignore[type-abstract]
        ctx.hub.register(OpenApiSource, self.host)  # type: ignore[type-abstract]
        return RestRegistrar(require_auth_by_default=self.cfg.require_auth_by_default)

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        return None

    def rest_finalize(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        assert self.state is not None
        assert self.host is not None
        assert self.cfg is not None
        authn = None if self.cfg.auth_disabled else ctx.hub.get(AuthnResolverClient)  # type: ignore[type-abstract]
        self.asgi, self.host.document = build_app(rest, self.state, authn)
        self.state.metrics = metrics_payload

    async def start(self, ctx: ModuleContext) -> None:
        assert self.cfg is not None
        assert self.host is not None
        self.server = UvicornServer(
            self.asgi, self.cfg.host, self.cfg.port, drain_timeout_s=self.cfg.drain_timeout_s
        )
        await self.server.start()
        self.host.base_url = f"http://{self.cfg.host}:{self.server.port}"
        ctx.spawn("server", self.server.wait)
        ctx.logger.info("api_gateway_listening", url=self.host.base_url + self.cfg.prefix)

    async def stop(self, ctx: ModuleContext) -> None:
        if self.state is not None:
            self.state.draining = True
            self.state.shutting_down.set()
        if self.server is not None:
            await self.server.stop()
        flush_access_log()  # the last requests' lines, before the kernel moves on
