"""The ``mini-chat`` module (CI-1): manifest and wiring — init builds, start connects, stop drains."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import msgspec
import structlog

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, hookimpl
from fabrikit.kernel.http import RestHost, RestRegistrar
from fabrikit.kernel.outbox import Outbox, OutboxMessage, Reject, Result, Retry, Success, per_message
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient
from fabrikit.modules.authz_resolver.pep import PolicyEnforcer
from fabrikit.modules.authz_resolver.sdk import AuthzResolverClient
from fabrikit.modules.oagw.sdk import OagwClient

from .api import build_router
from .config import MiniChatConfig
from .domain.policy import PolicyGateway
from .domain.ports import AuditEnvelope
from .domain.service import MiniChatEngine
from .domain.service_api import MiniChatService
from .infra.clock import SystemClock
from .infra.outbox import (
    ATTACHMENT_CLEANUP_QUEUE,
    AUDIT_QUEUE,
    CHAT_CLEANUP_QUEUE,
    THREAD_SUMMARY_QUEUE,
    USAGE_QUEUE,
    OutboxEnqueuer,
    register_queues,
)
from .infra.providers.gateway import OagwProviders
from .infra.providers.provisioning import provision_providers, service_context
from .infra.providers.resolver import ProviderResolver
from .infra.schema import migrations
from .infra.store import DbStore
from .sdk import (
    AUDIT_SPEC,
    MODEL_POLICY_SPEC,
    AuditPermanentError,
    MiniChatAuditPluginV1,
    MiniChatModelPolicyPluginV1,
    PublishPermanentError,
    TurnAuditEvent,
    TurnDeleteAuditEvent,
    TurnMutationAuditEvent,
    UsageEvent,
)

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
        self.outbox: Outbox | None = None
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
        outbox_builder = register_queues(Outbox.builder(db), cfg, self._outbox_handlers())
        self.outbox = await outbox_builder.build()
        pep = PolicyEnforcer(ctx.hub.get(AuthzResolverClient))  # type: ignore[type-abstract]
        oagw = ctx.hub.get(OagwClient)  # type: ignore[type-abstract]
        self.engine = MiniChatEngine(
            config=cfg,
            store=DbStore(db),
            authz=pep,
            policy=PolicyGateway(self._policy_selector, clock, cfg.providers),
            provider=OagwProviders(oagw, self.resolver, self.identity),
            outbox=OutboxEnqueuer(self.outbox, cfg.outbox.num_partitions),
            clock=clock,
        )

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        cfg: MiniChatConfig = ctx.config
        rest.include(
            build_router(self.service, url_prefix=cfg.url_prefix, streaming=cfg.streaming), module=ctx.name
        )

    async def start(self, ctx: ModuleContext) -> None:
        cfg: MiniChatConfig = ctx.config
        assert self.resolver is not None
        assert self.outbox is not None
        authn = ctx.hub.get(AuthnResolverClient)  # type: ignore[type-abstract]
        self.identity.ctx = await service_context(authn, cfg.client_credentials)
        oagw = ctx.hub.get(OagwClient)  # type: ignore[type-abstract]
        await provision_providers(oagw, self.identity.ctx, self.resolver)
        await self.outbox.start()
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
        if self.outbox is not None:
            await self.outbox.stop(max(deadline - loop.time() - 0.5, 0.5))

    # -- outbox delivery --------------------------------------------------------------------------------------

    def _outbox_handlers(self) -> dict[str, Any]:
        return {
            USAGE_QUEUE: per_message(self._publish_usage),
            AUDIT_QUEUE: per_message(self._emit_audit),
            CHAT_CLEANUP_QUEUE: per_message(_not_yet),
            ATTACHMENT_CLEANUP_QUEUE: per_message(_not_yet),
            THREAD_SUMMARY_QUEUE: per_message(_not_yet),
        }

    async def _publish_usage(self, message: OutboxMessage) -> Result:
        event = message.decode(UsageEvent)
        try:
            plugin: MiniChatModelPolicyPluginV1 = await self._policy_selector.get()
            await plugin.publish_usage(event)
        except PublishPermanentError as exc:
            return Reject(type(exc).__name__)
        except Exception as exc:  # transient by contract (C-17)
            self._policy_selector.invalidate()
            return Retry(type(exc).__name__)
        return Success()

    async def _emit_audit(self, message: OutboxMessage) -> Result:
        envelope = _decode_audit(message.payload)
        assert self.config is not None
        instances = await self._audit_selector.all(self.config.vendor)
        retry = False
        for instance in instances:
            plugin: MiniChatAuditPluginV1 = instance.client
            try:
                async with asyncio.timeout(self.config.outbox.audit_call_timeout_seconds):
                    await _audit_call(plugin, envelope)
            except AuditPermanentError:
                _log.warning("audit_rejected", instance_id=instance.gts_id)
            except Exception as exc:
                _log.warning("audit_retry", instance_id=instance.gts_id, error=type(exc).__name__)
                retry = True
        return Retry("audit plugin failed") if retry else Success()


class _RawEnvelope(msgspec.Struct):
    type: str
    event: msgspec.Raw


_AUDIT_TYPES: dict[str, Any] = {
    "turn": TurnAuditEvent,
    "mutation": TurnMutationAuditEvent,
    "delete": TurnDeleteAuditEvent,
}


def _decode_audit(payload: bytes) -> AuditEnvelope:
    """``AuditEnvelope.event`` is an untagged union of Structs; ``type`` says which one it is."""
    raw = msgspec.json.decode(payload, type=_RawEnvelope)
    event = msgspec.json.decode(raw.event, type=_AUDIT_TYPES[raw.type])
    return AuditEnvelope(type=raw.type, event=event)  # type: ignore[arg-type]


async def _audit_call(plugin: MiniChatAuditPluginV1, envelope: AuditEnvelope) -> None:
    event: Any = envelope.event
    if envelope.type == "turn":
        await plugin.emit_turn_audit(event)
    elif envelope.type == "delete":
        await plugin.emit_turn_delete_audit(event)
    elif getattr(event, "event_type", "") == "turn_edit":
        await plugin.emit_turn_edit_audit(event)
    else:
        await plugin.emit_turn_retry_audit(event)


async def _not_yet(message: OutboxMessage) -> Result:
    # Cleanup and summary workers are not wired yet; acknowledging keeps the partitions moving.
    _log.info("outbox_message_skipped", queue=message.queue)
    return Success()


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [MiniChat]
