"""The ``mini-chat`` module (CI-1): manifest and wiring — init builds, start connects, stop drains."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.http import RestHost, RestRegistrar
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient
from fabrikit.modules.authz_resolver.sdk import AuthzResolverClient, PolicyEnforcer
from fabrikit.modules.oagw.sdk import OagwClient

from .api import build_router
from .config import MiniChatConfig
from .domain.policy import PolicyGateway
from .domain.service import MiniChatEngine
from .domain.service_api import MiniChatService
from .infra.background import Background, start_background
from .infra.clock import SystemClock
from .infra.outbox import OutboxEnqueuer
from .infra.providers.files import OagwFiles
from .infra.providers.gateway import OagwProviders
from .infra.providers.provisioning import provision_providers, service_context
from .infra.providers.resolver import ProviderResolver
from .infra.schema import migrations
from .infra.store import DbStore
from .infra.thumbnails import thumbnailer
from .sdk import AUDIT_SPEC, MODEL_POLICY_SPEC

_log = structlog.get_logger("fabrikit.modules.mini_chat")


class _ServiceIdentity:
    """mini-chat's own security context, obtained in *start* (CI-1.3); provider calls read it lazily."""

    def __init__(self) -> None:
        self.ctx: SecurityContext | None = None

    def __call__(self) -> SecurityContext:
        if self.ctx is None:
            raise RuntimeError("mini-chat has not authenticated with its client credentials yet")
        return self.ctx


class MiniChat(Module):
    manifest = Manifest(
        "mini-chat",
        "0.1.0",
        deps=("types-registry", "authn-resolver", "authz-resolver", "oagw"),
        capabilities={Capability.DB, Capability.REST, Capability.STATEFUL},
        stop_timeout=20.0,
        description="Multi-tenant AI chat with SSE streaming, quotas and audit",
    )
    config_type = MiniChatConfig

    def __init__(self) -> None:
        self.config: MiniChatConfig | None = None
        self.engine: MiniChatEngine | None = None
        self.background: Background | None = None
        self.identity = _ServiceIdentity()
        self.resolver: ProviderResolver | None = None
        self._policy_selector: Any = None
        self._audit_selector: Any = None
        self._shutdown_watch: asyncio.Task[None] | None = None

    def migrations(self) -> Sequence[Any]:
        return migrations()

    @property
    def service(self) -> MiniChatService:
        if self.engine is None:
            raise RuntimeError("mini-chat is not initialized")
        return self.engine

    async def init(self, ctx: ModuleContext) -> None:
        cfg: MiniChatConfig = ctx.config
        self.config = cfg
        await ctx.plugins.register_spec(MODEL_POLICY_SPEC)
        await ctx.plugins.register_spec(AUDIT_SPEC)
        self._policy_selector = ctx.plugins.selector(MODEL_POLICY_SPEC, cfg.vendor)
        self._audit_selector = ctx.plugins.selector(AUDIT_SPEC, cfg.vendor)

        db = ctx.db_required()
        clock = SystemClock()
        self.resolver = ProviderResolver(cfg.providers)
        pep = PolicyEnforcer(ctx.hub.get(AuthzResolverClient))  # type: ignore[type-abstract]
        oagw = ctx.hub.get(OagwClient)  # type: ignore[type-abstract]
        self.engine = MiniChatEngine(
            config=cfg,
            store=DbStore(db),
            authz=pep,
            policy=PolicyGateway(self._policy_selector, clock, cfg.providers),
            provider=OagwProviders(oagw, self.resolver, self.identity),
            files=OagwFiles(oagw, self.resolver, self.identity),
            thumbnail=thumbnailer(cfg.rag.thumbnail),
            # Bound to the real outbox (with its handlers) in start (infra.background).
            outbox=OutboxEnqueuer(None, cfg.outbox.num_partitions),
            clock=clock,
        )

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        cfg: MiniChatConfig = ctx.config
        rest.include(
            build_router(self.service, url_prefix=cfg.url_prefix, streaming=cfg.streaming, rag=cfg.rag),
            module=ctx.name,
        )

    async def start(self, ctx: ModuleContext) -> None:
        cfg: MiniChatConfig = ctx.config
        assert self.resolver is not None
        assert self.engine is not None
        authn = ctx.hub.get(AuthnResolverClient)  # type: ignore[type-abstract]
        self.identity.ctx = await service_context(authn, cfg.client_credentials)
        oagw = ctx.hub.get(OagwClient)  # type: ignore[type-abstract]
        await provision_providers(oagw, self.identity.ctx, self.resolver)
        self.background = await start_background(
            ctx,
            self.engine,
            cfg,
            policy_selector=self._policy_selector,
            audit_selector=self._audit_selector,
        )
        host = ctx.hub.try_get(RestHost)  # type: ignore[type-abstract]
        if host is not None:
            self._shutdown_watch = ctx.spawn(
                "shutdown-watch", lambda: self._cancel_on_shutdown(host.shutting_down), critical=False
            )

    async def _cancel_on_shutdown(self, shutting_down: asyncio.Event) -> None:
        """The REST host drains first (P-6.8): every running turn ends ``cancelled`` and its still-attached
        client gets ``error {code: "stream_interrupted"}`` within the drain timeout (CI-4.7)."""
        await shutting_down.wait()
        if self.engine is not None:
            self.engine.runner.cancel_all("shutdown")

    async def stop(self, ctx: ModuleContext) -> None:
        loop = asyncio.get_running_loop()
        deadline = ctx.stop_deadline or (loop.time() + self.manifest.stop_timeout)
        if self._shutdown_watch is not None:
            self._shutdown_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._shutdown_watch
        if self.engine is not None:
            await self.engine.runner.stop(max(min(deadline - loop.time() - 2.0, 10.0), 0.5))
        if self.background is not None:
            await self.background.stop(max(deadline - loop.time() - 0.5, 0.5))


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [MiniChat]
