"""Processor profiles: batch size and idle poll interval (K-15.4)."""

from __future__ import annotations

import msgspec


class Profile(msgspec.Struct, frozen=True):
    name: str
    batch_size: int
    poll_interval: float


PROFILES: dict[str, Profile] = {
    "default": Profile("default", 16, 1.0),
    "low_latency": Profile("low_latency", 1, 0.1),
    "high_throughput": Profile("high_throughput", 128, 1.0),
    "relaxed": Profile("relaxed", 16, 5.0),
}
