"""``Telemetry`` over the Prometheus metrics of CI-16; a bad name or label is logged once, never raised into a turn."""

from __future__ import annotations

import logging
from typing import Any

from .metrics import MiniChatMetrics, metrics

_log = logging.getLogger("fabrikit.mini_chat.metrics")


class PrometheusTelemetry:
    def __init__(self, m: MiniChatMetrics) -> None:
        self.metrics = m
        self._warned: set[str] = set()

    def _metric(self, name: str, labels: dict[str, str]) -> Any:
        metric = getattr(self.metrics, name)
        return metric.labels(**labels) if labels else metric

    def _apply(self, name: str, op: str, value: float, labels: dict[str, str]) -> None:
        try:
            getattr(self._metric(name, labels), op)(value)
        except Exception as exc:  # metrics must never break a turn
            if name not in self._warned:
                self._warned.add(name)
                _log.warning("metric %s not recorded: %s", name, type(exc).__name__)

    def count(self, name: str, /, **labels: str) -> None:
        self._apply(name, "inc", 1, labels)

    def add(self, name: str, amount: float, /, **labels: str) -> None:
        self._apply(name, "inc", amount, labels)

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        self._apply(name, "observe", value, labels)

    def gauge_add(self, name: str, delta: float, /, **labels: str) -> None:
        self._apply(name, "inc", delta, labels)


def prometheus_telemetry(prefix: str = "mini_chat") -> PrometheusTelemetry:
    return PrometheusTelemetry(metrics(prefix))


__all__ = ["PrometheusTelemetry", "prometheus_telemetry"]
