"""``OagwProviders``: the ``ProviderPort`` mini-chat's domain calls — every LLM call goes through oagw (CI-13)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TypeAlias
from uuid import UUID

import structlog

from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.security import SecurityContext
from fabrikit.modules.oagw.sdk import OagwClient, OagwError

from ...domain.ports import (
    CompletionRequest,
    CompletionResult,
    DispatchState,
    ProviderCallError,
    ProviderRequest,
)
from ...domain.provider_events import Failed, ProviderEvent
from .azure import AzureResponsesWire
from .base import WireFormat, build_proxy_request, complete_call, guarded, stream_events
from .chat_completions import ChatCompletionsWire
from .openai_responses import ResponsesWire
from .resolver import ProviderResolver, UpstreamTarget
from .vllm import VllmResponsesWire

WIRES: dict[str, WireFormat] = {
    "openai_responses": ResponsesWire(),
    "azure_openai_responses": AzureResponsesWire(),
    "openai_chat_completions": ChatCompletionsWire(),
    "vllm_responses": VllmResponsesWire(),
}

_log = structlog.get_logger("mini_chat.providers")
_UNAVAILABLE = "The model's provider is not available."

ContextSource: TypeAlias = SecurityContext | Callable[[], SecurityContext]


def _crash() -> Failed:
    return Failed(code="provider_error", message="The provider call failed unexpectedly.")


class OagwProviders:
    """Streams and completes through ``OagwClient.proxy_request`` with mini-chat's service context.

    ``context`` is the service ``SecurityContext`` (CI-1.3) or a callable returning it, so the port can be built in
    *init* and used once *start* has authenticated. Upstreams live in the service tenant; the caller's tenant picks
    its override upstream by alias (``ProviderResolver``)."""

    def __init__(self, oagw: OagwClient, resolver: ProviderResolver, context: ContextSource) -> None:
        self._oagw = oagw
        self._resolver = resolver
        self._context = context

    def _ctx(self) -> SecurityContext:
        return self._context() if callable(self._context) else self._context

    def _target(self, provider_id: str, tenant_id: UUID) -> tuple[UpstreamTarget, WireFormat]:
        """The configured kind decides the wire format (the body was built for it too)."""
        target = self._resolver.resolve(provider_id, tenant_id)
        return target, WIRES[target.kind]

    def stream(self, request: ProviderRequest, state: DispatchState) -> AsyncIterator[ProviderEvent]:
        """Normalized events ending with one terminal; cancelling the consumer or ``aclose`` closes the upstream."""
        return guarded(self._stream(request, state), _crash)

    async def _stream(
        self, request: ProviderRequest, state: DispatchState
    ) -> AsyncGenerator[ProviderEvent, None]:
        try:
            target, wire = self._target(request.provider_id, request.tenant_id)
            proxy_request = build_proxy_request(target, request.provider_model_id, request.body, stream=True)
            ctx = self._ctx()
        except (DomainError, OagwError) as exc:
            # Nothing was sent (``dispatched`` stays false). The detail may name the provider: log it, never show it.
            _log.error("mini_chat_provider_unavailable", provider_id=request.provider_id, error=exc.detail)
            yield Failed(code="provider_error", message=_UNAVAILABLE)
            return
        normalizer = wire.normalizer(dict(request.file_map), request.files_searchable)
        async for event in stream_events(self._oagw, ctx, proxy_request, normalizer, wire, state):
            yield event

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """Non-streaming call (summaries, CI-9.3): joined text and usage, or ``ProviderCallError``."""
        try:
            target, wire = self._target(request.provider_id, request.tenant_id)
            body = wire.completion_body(request.body)
            proxy_request = build_proxy_request(target, request.provider_model_id, body, stream=False)
        except (DomainError, OagwError) as exc:
            _log.error("mini_chat_provider_unavailable", provider_id=request.provider_id, error=exc.detail)
            raise ProviderCallError("provider_error", _UNAVAILABLE) from None
        text, usage = await complete_call(
            self._oagw, self._ctx(), proxy_request, wire, request.timeout_seconds
        )
        return CompletionResult(text=text, usage=usage)
