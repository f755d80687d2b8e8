"""Prometheus metrics (G-20.2) in the default registry; no tenant or subject labels, ``upstream`` = alias."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "oagw_requests_total",
    "Proxied requests by outcome.",
    ["upstream", "method", "status_class", "error_source"],
)
REQUEST_DURATION = Histogram(
    "oagw_request_duration_seconds",
    "Time from the call to the upstream's response headers.",
    ["upstream", "method"],
)
STREAM_DURATION = Histogram(
    "oagw_stream_duration_seconds",
    "Time from the response headers to the end of the body.",
    ["upstream"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600),
)
IN_FLIGHT = Gauge("oagw_requests_in_flight", "Requests whose response is still open.", ["upstream"])
ERRORS = Counter("oagw_errors_total", "Gateway-side failures by problem code.", ["upstream", "error_type"])
RATE_LIMIT_REJECTIONS = Counter(
    "oagw_rate_limit_rejections_total", "Requests refused by a rate limit.", ["upstream", "level"]
)
BREAKER_STATE = Gauge("oagw_circuit_breaker_state", "0 closed, 1 half-open, 2 open.", ["upstream"])
TOKEN_CACHE = Counter("oagw_token_cache_total", "OAuth2 token cache lookups.", ["result"])
SSRF_BLOCKED = Counter("oagw_ssrf_blocked_total", "Targets refused by the network policy.")


def status_class(status: int) -> str:
    return f"{status // 100}xx"
