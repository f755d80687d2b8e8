"""mini-chat's Prometheus metrics (CI-16). Labels never carry tenant, user, chat or request ids, or free text."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

_MS_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000)
_S_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30)


@dataclass(frozen=True)
class MiniChatMetrics:
    stream_started: Counter
    stream_completed: Counter
    stream_failed: Counter
    stream_incomplete: Counter
    stream_disconnected: Counter
    active_streams: Gauge
    ttft_provider_ms: Histogram
    ttft_overhead_ms: Histogram
    stream_total_latency_ms: Histogram
    finalization_latency_ms: Histogram
    cancel_requested: Counter
    cancel_effective: Counter
    time_to_abort_ms: Histogram
    streams_aborted: Counter
    turn_mutation: Counter
    turn_mutation_latency_ms: Histogram
    finalize_lost: Counter
    quota_preflight: Counter
    quota_reserve: Counter
    quota_commit: Counter
    quota_overshoot: Counter
    quota_negative: Counter
    credits_overflow: Counter
    unknown_error_code: Counter
    tool_calls: Counter
    tool_call_limited: Counter
    citations_dropped: Counter
    orphan_detected: Counter
    orphan_finalized: Counter
    orphan_scan_duration_seconds: Histogram
    audit_emit: Counter
    audit_redaction_hits: Counter
    outbox_handler: Counter
    outbox_dead_letter_backlog: Gauge
    cleanup_completed: Counter
    cleanup_failed: Counter
    cleanup_retry: Counter
    cleanup_vs_with_failed_attachments: Counter
    thread_summary_trigger: Counter
    thread_summary_execution: Counter
    thread_summary_cas_conflicts: Counter


_lock = threading.Lock()
_by_prefix: dict[str, MiniChatMetrics] = {}


def metrics(prefix: str = "mini_chat") -> MiniChatMetrics:
    """The process-wide metrics for a prefix; created once (Prometheus names are global to the process)."""
    with _lock:
        if prefix not in _by_prefix:
            _by_prefix[prefix] = _create(prefix)
        return _by_prefix[prefix]


def _create(p: str) -> MiniChatMetrics:
    def c(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(f"{p}_{name}", doc, labels)

    def h(
        name: str, doc: str, labels: tuple[str, ...] = (), buckets: tuple[float, ...] = _MS_BUCKETS
    ) -> Histogram:
        return Histogram(f"{p}_{name}", doc, labels, buckets=buckets)

    pm = ("provider", "model")
    return MiniChatMetrics(
        stream_started=c("stream_started", "Streams opened", pm),
        stream_completed=c("stream_completed", "Streams that ended with done", pm),
        stream_failed=c("stream_failed", "Streams that ended with error", (*pm, "error_code")),
        stream_incomplete=c("stream_incomplete", "Streams the provider stopped early", (*pm, "reason")),
        stream_disconnected=c("stream_disconnected", "Client disconnects", ("stage",)),
        active_streams=Gauge(f"{p}_active_streams", "Streams being produced now"),
        ttft_provider_ms=h("ttft_provider_ms", "Provider time to first token", pm),
        ttft_overhead_ms=h("ttft_overhead_ms", "Time to first token added by fabrikit", pm),
        stream_total_latency_ms=h("stream_total_latency_ms", "Whole stream duration", pm),
        finalization_latency_ms=h("finalization_latency_ms", "Finalization transaction duration"),
        cancel_requested=c("cancel_requested", "Cancellations requested", ("trigger",)),
        cancel_effective=c("cancel_effective", "Cancellations that stopped a provider call", ("trigger",)),
        time_to_abort_ms=h("time_to_abort_ms", "Cancel request to provider abort", ("trigger",)),
        streams_aborted=c("streams_aborted", "Streams aborted", ("trigger",)),
        turn_mutation=c("turn_mutation", "Retry/edit/delete", ("op", "result")),
        turn_mutation_latency_ms=h("turn_mutation_latency_ms", "Mutation latency", ("op",)),
        finalize_lost=c("finalize_lost", "Finalizers that lost the CAS", ("ending",)),
        quota_preflight=c("quota_preflight", "Preflight decisions", ("decision", "model", "tier")),
        quota_reserve=c("quota_reserve", "Reserves written", ("period",)),
        quota_commit=c("quota_commit", "Settlements written", ("period",)),
        quota_overshoot=c("quota_overshoot", "Settlements capped by the overshoot rule", ("period",)),
        quota_negative=c("quota_negative", "Reserved credits clamped at zero"),
        credits_overflow=c("credits_overflow", "Token or multiplier outside the accounting guards"),
        unknown_error_code=c("unknown_error_code", "Turn endings with an unknown error code"),
        tool_calls=c("tool_calls", "Provider tool calls", ("tool", "phase")),
        tool_call_limited=c("tool_call_limited", "Turns stopped by a per-turn tool limit", ("tool",)),
        citations_dropped=c("citations_dropped", "Citations whose file could not be mapped"),
        orphan_detected=c("orphan_detected", "Running turns without progress"),
        orphan_finalized=c("orphan_finalized", "Orphans finalized", ("reason",)),
        orphan_scan_duration_seconds=h(
            "orphan_scan_duration_seconds", "Watchdog scan duration", buckets=_S_BUCKETS
        ),
        audit_emit=c("audit_emit", "Audit deliveries", ("result",)),
        audit_redaction_hits=c("audit_redaction_hits", "Redactions applied to audit fields", ("pattern",)),
        outbox_handler=c("outbox_handler", "Outbox handler results", ("queue", "result")),
        outbox_dead_letter_backlog=Gauge(
            f"{p}_outbox_dead_letter_backlog", "Pending dead letters", ("queue",)
        ),
        cleanup_completed=c("cleanup_completed", "Provider resources removed", ("resource_type",)),
        cleanup_failed=c("cleanup_failed", "Provider resources left for an operator", ("resource_type",)),
        cleanup_retry=c("cleanup_retry", "Provider cleanups to be retried", ("resource_type",)),
        cleanup_vs_with_failed_attachments=c(
            "cleanup_vs_with_failed_attachments", "Vector stores removed while some of their files were left"
        ),
        thread_summary_trigger=c("thread_summary_trigger", "Thread-summary trigger evaluations", ("result",)),
        thread_summary_execution=c("thread_summary_execution", "Thread-summary task results", ("result",)),
        thread_summary_cas_conflicts=c(
            "thread_summary_cas_conflicts", "Thread summaries that lost the frontier compare-and-set"
        ),
    )
