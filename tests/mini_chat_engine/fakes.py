"""Port fakes: a scripted provider replaying mock-llm-like normalized events, and a configurable policy plugin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fabrikit.modules.mini_chat.domain.ports import (
    CompletionRequest,
    CompletionResult,
    DispatchState,
    ProviderRequest,
)
from fabrikit.modules.mini_chat.domain.provider_events import Completed, ProviderEvent, TextDelta
from fabrikit.modules.mini_chat.domain.provider_usage import ProviderUsage
from fabrikit.modules.mini_chat.sdk import (
    GeneralConfig,
    KillSwitches,
    LicenseStatus,
    ModelCatalogEntry,
    PolicySnapshot,
    PolicyVersionInfo,
    Preference,
    TierLimits,
    ToolSupport,
    UsageEvent,
    UserLimits,
)

Script = list[ProviderEvent | float | Exception]  # float = sleep (slow provider); Exception = adapter crash


def answer(*chunks: str, input_tokens: int = 10, output_tokens: int = 5) -> Script:
    events: Script = [TextDelta(c) for c in chunks]
    events.append(Completed(usage=ProviderUsage(input_tokens=input_tokens, output_tokens=output_tokens)))
    return events


class FakeProvider:
    """Replays one script per call (the last script repeats). Records requests, dispatches and aborts."""

    def __init__(self) -> None:
        self.scripts: list[Script] = [answer("Hello", " world")]
        self.completions: list[CompletionResult | Exception] = []
        self.completion_requests: list[CompletionRequest] = []
        self.on_complete: Callable[[], Awaitable[None]] | None = None
        self.requests: list[ProviderRequest] = []
        self.closed = 0
        self.cancelled = 0
        self.started = asyncio.Event()
        self.gate: asyncio.Event | None = None  # when set, the stream waits on it after the first delta

    def stream(self, request: ProviderRequest, state: DispatchState) -> AsyncIterator[ProviderEvent]:
        script = self.scripts.pop(0) if len(self.scripts) > 1 else list(self.scripts[0])
        return self._run(request, state, script)

    async def _run(
        self, request: ProviderRequest, state: DispatchState, script: Script
    ) -> AsyncIterator[ProviderEvent]:
        state.dispatched = True
        self.requests.append(request)
        try:
            for i, item in enumerate(script):
                if isinstance(item, float):
                    await asyncio.sleep(item)
                    continue
                if isinstance(item, Exception):
                    raise item
                yield item
                if i == 0:
                    self.started.set()
                    if self.gate is not None:
                        await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.closed += 1

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        """Non-streaming calls (summaries): the queued ``completions`` in order, then ``<summary>s</summary>``;
        an exception in the queue is raised; ``on_complete`` runs first (to change the world meanwhile)."""
        self.completion_requests.append(request)
        if self.on_complete is not None:
            await self.on_complete()
        outcome = (
            self.completions.pop(0)
            if self.completions
            else CompletionResult(text="<summary>s</summary>", usage=None)
        )
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def model(
    model_id: str,
    tier: str,
    *,
    default: bool = False,
    order: int = 1,
    enabled: bool = True,
    mi: int = 1_000_000,
    mo: int = 3_000_000,
    context_window: int = 128_000,
    max_output_tokens: int = 1000,
) -> ModelCatalogEntry:
    return ModelCatalogEntry(
        id=model_id,
        provider_model_id=f"up-{model_id}",
        provider_id="mock",
        display_name=f"{model_id} (mock)",
        tier=tier,  # type: ignore[arg-type]
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        input_tokens_credit_multiplier_micro=mi,
        output_tokens_credit_multiplier_micro=mo,
        enabled=enabled,
        multimodal_capabilities=("VISION_INPUT", "RAG"),
        preference=Preference(is_default=default, sort_order=order),
        general_config=GeneralConfig(
            tool_support=ToolSupport(web_search=True, file_search=True, code_interpreter=True)
        ),
    )


class FakePolicy:
    def __init__(self) -> None:
        self.catalog = (
            model("prem", "premium", default=True, order=1, mi=3_000_000, mo=15_000_000),
            model("std", "standard", default=True, order=2),
        )
        self.kill = KillSwitches()
        self.standard = TierLimits(
            limit_daily_credits_micro=100_000_000, limit_monthly_credits_micro=1_000_000_000
        )
        self.premium = TierLimits(
            limit_daily_credits_micro=50_000_000, limit_monthly_credits_micro=500_000_000
        )
        self.version = 1
        self.license = True
        self.fail = False
        self.published: list[UsageEvent] = []

    def _check(self) -> None:
        if self.fail:
            raise RuntimeError("policy down")

    async def get_current_policy_version(self, tenant_id: UUID, user_id: UUID) -> PolicyVersionInfo:
        self._check()
        return PolicyVersionInfo(
            tenant_id=tenant_id, user_id=user_id, policy_version=self.version, generated_at=datetime.now(UTC)
        )

    async def get_policy_snapshot(
        self, tenant_id: UUID, user_id: UUID, policy_version: int
    ) -> PolicySnapshot:
        self._check()
        return PolicySnapshot(
            tenant_id=tenant_id,
            user_id=user_id,
            policy_version=policy_version,
            model_catalog=self.catalog,
            kill_switches=self.kill,
        )

    async def get_user_limits(self, tenant_id: UUID, user_id: UUID, policy_version: int) -> UserLimits:
        self._check()
        return UserLimits(
            tenant_id=tenant_id,
            user_id=user_id,
            policy_version=policy_version,
            standard=self.standard,
            premium=self.premium,
        )

    async def check_user_license(self, tenant_id: UUID, user_id: UUID) -> LicenseStatus:
        self._check()
        return LicenseStatus(self.license)

    async def publish_usage(self, event: UsageEvent) -> None:
        self.published.append(event)


class PolicySource:
    def __init__(self, plugin: FakePolicy) -> None:
        self.plugin = plugin

    async def get(self) -> Any:
        return self.plugin

    def invalidate(self) -> None:
        pass


class FakeFiles:
    """The ``ProviderFiles`` port: records calls; ``fail`` maps a method name to the error it raises next;
    ``gate`` (when set) holds uploads until it is set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.fail: dict[str, list[Exception]] = {}
        self.gate: asyncio.Event | None = None
        self.uploading = asyncio.Event()  # set once an upload reached the provider
        self._n = 0

    def _next_id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        errors = self.fail.get(name)
        if errors:
            raise errors.pop(0)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def upload_file(
        self, tenant_id: UUID, provider_id: str, *, filename: str, content_type: str, data: bytes
    ) -> str:
        self.uploading.set()
        if self.gate is not None:
            await self.gate.wait()
        self._record("upload_file", filename, content_type, len(data))
        return self._next_id("file")

    async def create_vector_store(self, tenant_id: UUID, provider_id: str, *, name: str) -> str:
        self._record("create_vector_store", name)
        return self._next_id("vs")

    async def add_vector_store_file(
        self,
        tenant_id: UUID,
        provider_id: str,
        vector_store_id: str,
        file_id: str,
        attributes: dict[str, str],
    ) -> None:
        self._record("add_vector_store_file", vector_store_id, file_id, attributes)

    async def remove_vector_store_file(
        self, tenant_id: UUID, provider_id: str, vector_store_id: str, file_id: str
    ) -> None:
        self._record("remove_vector_store_file", vector_store_id, file_id)

    async def delete_file(self, tenant_id: UUID, provider_id: str, file_id: str) -> None:
        self._record("delete_file", file_id)

    async def delete_vector_store(self, tenant_id: UUID, provider_id: str, vector_store_id: str) -> None:
        self._record("delete_vector_store", vector_store_id)


class BytesUpload:
    """An ``UploadSource`` that already holds its one file."""

    def __init__(self, filename: str, content_type: str, data: bytes) -> None:
        self.content_length: int | None = len(data) + 200
        self._part = (filename, content_type)
        self._data = data

    async def file_part(self) -> tuple[str | None, str | None]:
        return self._part

    async def read_file(self, limit: int) -> bytes:
        return self._data
