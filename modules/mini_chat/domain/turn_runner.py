"""TurnRunner (CI-4.1): one producer task per turn, outside the request scope; the relay only reads the handle.

Producer (CI-4 sequence): ``stream_started`` → provider events in a child task (cancel → child cancelled and
awaited ≤ 1 s) → ``finalize`` → terminal items only if this producer won → end sentinel. A crash finalizes
``failed``/``internal_error`` (CI-4.8); a blocked put cancels with ``stall`` (CI-4.5).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from ..config import MiniChatConfig
from ..sdk import LatencyMs, UserLimits
from .credits import periods_at
from .finalizer import Finalizer, FinalizeResult, TurnContext
from .ports import Clock, DispatchState, ProviderPort, ProviderRequest, Store
from .provider_events import Completed, Failed, Incomplete, ReasoningDelta, TextDelta, ToolDone, ToolStart
from .provider_usage import ProviderUsage
from .quota_status import quota_status, quota_warnings
from .service_api import StreamItem, TurnHandle
from .settlement import ToolCounts
from .sse import (
    Citation,
    Citations,
    CompletionSignal,
    Delta,
    Done,
    DoneUsage,
    ErrorEvent,
    StreamStarted,
    ToolEvent,
    stream_interrupted,
)
from .telemetry import NO_TELEMETRY, Telemetry
from .turns import Ending, terminal_outcome

_log = logging.getLogger("fabrikit.mini_chat.turns")
CANCEL_GRACE_SECONDS = 1.0
_GENERIC_ERRORS = {
    "internal_error": "The reply could not be completed.",
    "message_persistence_failed": "The reply could not be stored.",
    "web_search_calls_exceeded": "Too many web searches for one message.",
    "code_interpreter_calls_exceeded": "Too many code interpreter calls for one message.",
}


class TurnPlan(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the producer needs, fixed at preflight (P9)."""

    ctx: TurnContext
    request: ProviderRequest
    stream_started: StreamStarted
    effective_model: str
    effective_tier: str
    quota_decision: str
    downgrade_reason: str | None
    limits: UserLimits
    web_search_limit: int
    code_interpreter_limit: int


class _Stop(Exception):
    """The handle was cancelled (or stalled) while putting an item."""


class _Lost(Exception):
    """A heartbeat found the turn already finalized elsewhere (watchdog): do nothing more."""


class _Progress:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.usage: ProviderUsage | None = None
        self.citations: tuple[Citation, ...] = ()
        self.started: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.first_token_at: float | None = None
        self.requested_at: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def tools(self) -> ToolCounts:
        return ToolCounts(
            web_search=self.done.get("web_search", 0),
            code_interpreter=self.done.get("code_interpreter", 0),
            file_search=self.done.get("file_search", 0),
        )


class TurnRunner:
    def __init__(
        self,
        store: Store,
        provider: ProviderPort,
        finalizer: Finalizer,
        clock: Clock,
        config: MiniChatConfig,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self._store = store
        self._provider = provider
        self._finalizer = finalizer
        self._clock = clock
        self._config = config
        self.telemetry = telemetry
        self._running: dict[UUID, tuple[TurnHandle, asyncio.Task[None]]] = {}

    # -- registry ------------------------------------------------------------------------------------------

    def new_handle(self, chat_id: UUID, request_id: UUID, turn_id: UUID | None) -> TurnHandle:
        return TurnHandle(
            chat_id=chat_id,
            request_id=request_id,
            turn_id=turn_id,
            capacity=self._config.streaming.sse_channel_capacity,
        )

    def start(self, plan: TurnPlan) -> TurnHandle:
        handle = self.new_handle(plan.ctx.chat_id, plan.ctx.request_id, plan.ctx.turn_id)
        task = asyncio.create_task(self._produce(handle, plan), name=f"mini-chat:turn:{plan.ctx.turn_id}")
        self._running[plan.ctx.turn_id] = (handle, task)
        task.add_done_callback(lambda _t: self._running.pop(plan.ctx.turn_id, None))
        return handle

    def handles(self) -> list[TurnHandle]:
        return [handle for handle, _ in self._running.values()]

    def cancel_chat(self, chat_id: UUID, trigger: Any = "chat_deleted") -> None:
        for handle, _ in list(self._running.values()):
            if handle.chat_id == chat_id:
                handle.cancel(trigger)

    def cancel_all(self, trigger: Any = "shutdown") -> None:
        for handle, _ in list(self._running.values()):
            handle.cancel(trigger)

    async def wait_idle(self, timeout: float | None = None) -> None:
        tasks = [task for _, task in self._running.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def stop(self, timeout: float) -> None:
        """Module stop: cancel every turn, await producers, hard-cancel the rest (CI-4.7)."""
        self.cancel_all("shutdown")
        tasks = [task for _, task in self._running.values()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)

    # -- producer ------------------------------------------------------------------------------------------

    async def _produce(self, handle: TurnHandle, plan: TurnPlan) -> None:
        state = DispatchState()
        progress = _Progress()
        started = self._clock.monotonic()
        labels = {"provider": plan.request.provider_id, "model": plan.effective_model}
        self.telemetry.count("stream_started", **labels)
        self.telemetry.gauge_add("active_streams", 1)
        try:
            try:
                ending = await self._stream(handle, plan, state, progress)
            except _Lost:
                return
            except Exception:
                _log.exception("turn producer crashed", extra={"turn_id": str(plan.ctx.turn_id)})
                ending = Ending(kind="internal_failure", dispatched=state.dispatched, usage=progress.usage)
            # A short answer arrives in one read, so the whole stream can be consumed without a suspension: let
            # the relay write the queued deltas before the finalization transaction holds the loop.
            await asyncio.sleep(0)
            result = await self._finalize(plan, ending, progress, started)
            if result is not None and result.won:
                self._record_end(labels, result, progress, started)
                await self._send_terminal(handle, plan, result, progress)
        finally:
            self.telemetry.gauge_add("active_streams", -1)
            handle.end()

    def _record_end(
        self, labels: dict[str, str], result: FinalizeResult, progress: _Progress, started: float
    ) -> None:
        """CI-16 stream metrics for the ending this producer committed."""
        tm, ending = self.telemetry, result.ending
        assert ending is not None
        if ending.kind in ("completed", "incomplete"):
            tm.count("stream_completed", **labels)
            if ending.kind == "incomplete":
                tm.count("stream_incomplete", reason=ending.incomplete_reason or "other", **labels)
        elif ending.kind == "cancelled":
            trigger = ending.trigger or "internal_abort"
            tm.count("cancel_requested", trigger=trigger)
            tm.count("streams_aborted", trigger=trigger)
            if ending.dispatched:
                tm.count("cancel_effective", trigger=trigger)
        else:
            code = terminal_outcome(ending).error_code or "internal_error"
            tm.count("stream_failed", error_code=code, **labels)
        if progress.first_token_at is not None and progress.requested_at is not None:
            tm.observe("ttft_provider_ms", (progress.first_token_at - progress.requested_at) * 1000, **labels)
            tm.observe("ttft_overhead_ms", (progress.requested_at - started) * 1000, **labels)
        tm.observe("stream_total_latency_ms", (self._clock.monotonic() - started) * 1000, **labels)

    async def _finalize(
        self, plan: TurnPlan, ending: Ending, progress: _Progress, started: float
    ) -> FinalizeResult | None:
        now = self._clock.monotonic()
        ttft = (
            int((progress.first_token_at - started) * 1000) if progress.first_token_at is not None else None
        )
        latency = LatencyMs(ttft_ms=ttft, total_ms=int((now - started) * 1000))
        try:
            return await self._finalizer.finalize(
                plan.ctx, ending, text=progress.text, tools=progress.tools(), latency=latency
            )
        except Exception:
            # Both attempts failed: the turn stays running and the orphan watchdog settles it (CI-5.3).
            _log.exception("turn finalization failed twice", extra={"turn_id": str(plan.ctx.turn_id)})
            return None

    async def _stream(
        self, handle: TurnHandle, plan: TurnPlan, state: DispatchState, progress: _Progress
    ) -> Ending:
        try:
            await self._put(handle, plan.stream_started)
        except _Stop:
            return Ending(kind="cancelled", trigger=handle.trigger, dispatched=False)
        child = asyncio.create_task(self._consume(handle, plan, state, progress))
        waiter = asyncio.create_task(handle.cancel_event.wait())
        try:
            await asyncio.wait({child, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if child.done() and not child.cancelled():
            exc = child.exception()
            if exc is None and child.result() is not None:
                return child.result()  # type: ignore[return-value]
            if exc is not None and not isinstance(exc, _Stop):
                raise exc
        if not handle.cancelled:
            raise RuntimeError("provider consumer stopped without an ending")
        if not child.done():
            child.cancel()
            await asyncio.wait({child}, timeout=CANCEL_GRACE_SECONDS)
        elif not child.cancelled() and isinstance(child.exception(), _Lost):
            raise _Lost()
        return Ending(
            kind="cancelled", trigger=handle.trigger, dispatched=state.dispatched, usage=progress.usage
        )

    async def _consume(
        self, handle: TurnHandle, plan: TurnPlan, state: DispatchState, progress: _Progress
    ) -> Ending | None:
        progress.requested_at = self._clock.monotonic()
        stream = self._provider.stream(plan.request, state)
        hb_every = self._config.streaming.progress_heartbeat_seconds
        last_hb = self._clock.monotonic()
        limits = {"web_search": plan.web_search_limit, "code_interpreter": plan.code_interpreter_limit}
        try:
            async for event in stream:
                if handle.cancelled:
                    return None
                if self._clock.monotonic() - last_hb >= hb_every:
                    last_hb = self._clock.monotonic()
                    await self._heartbeat(handle, plan)
                    if handle.cancelled:
                        return None
                if isinstance(event, TextDelta):
                    if progress.first_token_at is None:
                        progress.first_token_at = self._clock.monotonic()
                    progress.parts.append(event.delta)
                    await self._put(handle, Delta("text", event.delta))
                elif isinstance(event, ReasoningDelta):
                    await self._put(handle, Delta("reasoning", event.delta))
                elif isinstance(event, ToolStart):
                    count = progress.started.get(event.name, 0) + 1
                    progress.started[event.name] = count
                    limit = limits.get(event.name)
                    if limit is not None and count > limit:
                        self.telemetry.count("tool_call_limited", tool=event.name)
                        return Ending(
                            kind="tool_limit",
                            error_code=f"{event.name}_calls_exceeded",
                            dispatched=True,
                            usage=progress.usage,
                        )
                    self.telemetry.count("tool_calls", tool=event.name, phase="start")
                    await self._put(handle, ToolEvent("start", event.name, {}))
                elif isinstance(event, ToolDone):
                    progress.done[event.name] = progress.done.get(event.name, 0) + 1
                    self.telemetry.count("tool_calls", tool=event.name, phase="done")
                    await self._put(handle, ToolEvent("done", event.name, dict(event.details)))
                elif isinstance(event, Completed):
                    progress.usage, progress.citations = event.usage, event.citations
                    if event.citations_dropped:
                        self.telemetry.add("citations_dropped", event.citations_dropped)
                    return Ending(
                        kind="completed", dispatched=True, usage=event.usage, response_id=event.response_id
                    )
                elif isinstance(event, Incomplete):
                    progress.usage = event.usage
                    return Ending(
                        kind="incomplete",
                        incomplete_reason=event.reason,
                        dispatched=True,
                        usage=event.usage,
                        response_id=event.response_id,
                    )
                elif isinstance(event, Failed):
                    progress.usage = event.usage
                    return Ending(
                        kind="provider_failed",
                        error_code=event.code,
                        error_detail=event.message,
                        dispatched=state.dispatched,
                        nothing_generated=state.nothing_generated,
                        usage=event.usage,
                    )
            return Ending(
                kind="provider_failed",
                error_code="provider_error",
                error_detail="The provider stream ended without a terminal event.",
                dispatched=state.dispatched,
                usage=progress.usage,
            )
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _heartbeat(self, handle: TurnHandle, plan: TurnPlan) -> None:
        ctx = plan.ctx
        if await self._store.turns.heartbeat(ctx.tenant_id, ctx.turn_id, self._clock.now()):
            return
        if not await self._store.chats.is_live(ctx.tenant_id, ctx.chat_id):
            handle.cancel("chat_deleted")
            return
        raise _Lost()

    async def _put(self, handle: TurnHandle, item: StreamItem) -> None:
        """Races the put against the cancel event; a put blocked for ``relay_stall_timeout_seconds`` → stall."""
        if handle.cancelled:
            raise _Stop()
        try:
            handle.queue.put_nowait(item)
            return
        except asyncio.QueueFull:
            pass
        put = asyncio.create_task(handle.queue.put(item))
        waiter = asyncio.create_task(handle.cancel_event.wait())
        try:
            await asyncio.wait(
                {put, waiter},
                timeout=self._config.streaming.relay_stall_timeout_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            waiter.cancel()
        if put.done() and not put.cancelled():
            return
        put.cancel()
        if not handle.cancelled:
            handle.cancel("stall")
        raise _Stop()

    async def _send_terminal(
        self, handle: TurnHandle, plan: TurnPlan, result: FinalizeResult, progress: _Progress
    ) -> None:
        """Only the winner, only after commit (CI-5.4). A cancelled turn sends nothing, except on shutdown."""
        assert result.turn is not None
        assert result.ending is not None
        if handle.cancelled and handle.trigger != "shutdown":
            return
        items: list[StreamItem] = []
        state = "cancelled" if result.ending.kind == "cancelled" else None
        if state == "cancelled":
            items.append(stream_interrupted())
        elif result.ending.kind in ("completed", "incomplete"):
            if result.ending.kind == "completed" and progress.citations:
                items.append(Citations(items=progress.citations))
            items.append(await self._done(plan, result, progress))
        else:
            code = result.ending.error_code or {
                "persistence_failed": "message_persistence_failed",
                "internal_failure": "internal_error",
                "orphan": "orphan_timeout",
            }.get(result.ending.kind, "internal_error")
            message = result.ending.error_detail or _GENERIC_ERRORS.get(code, "The reply failed.")
            items.append(ErrorEvent(code=code, message=message))
        for item in items:
            try:
                await self._put_terminal(handle, item)
            except _Stop:
                return

    async def _put_terminal(self, handle: TurnHandle, item: StreamItem) -> None:
        if handle.cancelled and handle.trigger != "shutdown":
            raise _Stop()
        try:
            await asyncio.wait_for(handle.queue.put(item), self._config.streaming.relay_stall_timeout_seconds)
        except TimeoutError:
            raise _Stop() from None

    async def _done(self, plan: TurnPlan, result: FinalizeResult, progress: _Progress) -> Done:
        usage = progress.usage
        reason = result.ending.incomplete_reason if result.ending else None
        return Done(
            usage=(
                DoneUsage(
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_input_tokens=usage.cache_read_input_tokens,
                    cache_write_input_tokens=usage.cache_write_input_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                    model=plan.effective_model,
                )
                if usage is not None
                else None
            ),
            effective_model=plan.effective_model,
            selected_model=plan.ctx.selected_model,
            quota_decision=plan.quota_decision,  # type: ignore[arg-type]
            downgrade_from=plan.ctx.selected_model if plan.quota_decision == "downgrade" else None,
            downgrade_reason=plan.downgrade_reason,
            quota_warnings=await self._warnings(plan),
            completion_signal=CompletionSignal("incomplete", reason) if reason else None,
        )

    async def _warnings(self, plan: TurnPlan) -> tuple[Any, ...] | None:
        now: datetime = self._clock.now()
        periods = periods_at(now)
        try:
            rows = await self._store.quota.read(
                plan.ctx.tenant_id, plan.ctx.user_id, {"daily": periods.daily, "monthly": periods.monthly}
            )
        except Exception:
            _log.exception("quota warnings unavailable")
            return None
        status = quota_status(
            limits=plan.limits,
            rows=rows,
            now=now,
            warning_threshold_pct=self._config.quota.warning_threshold_pct,
        )
        return tuple(quota_warnings(status, plan.effective_tier))  # type: ignore[arg-type]
