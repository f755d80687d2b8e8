"""The engine's metrics port (CI-16): named counters, histograms and gauges with bounded labels.

The engine records events by metric name (the fields of ``infra.metrics.MiniChatMetrics``); ``infra`` maps them to
Prometheus. Labels carry only bounded values (provider key, public model id, tier, codes) — never ids or text.
"""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def count(self, name: str, /, **labels: str) -> None: ...
    def add(self, name: str, amount: float, /, **labels: str) -> None: ...
    def observe(self, name: str, value: float, /, **labels: str) -> None: ...
    def gauge_add(self, name: str, delta: float, /, **labels: str) -> None: ...


class NoTelemetry:
    """Records nothing (engine tests, tools)."""

    def count(self, name: str, /, **labels: str) -> None:
        return None

    def add(self, name: str, amount: float, /, **labels: str) -> None:
        return None

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        return None

    def gauge_add(self, name: str, delta: float, /, **labels: str) -> None:
        return None


NO_TELEMETRY = NoTelemetry()

__all__ = ["NO_TELEMETRY", "NoTelemetry", "Telemetry"]
