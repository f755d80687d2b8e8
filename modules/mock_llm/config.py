"""`modules.mock-llm.config` (M-2): every key with its default; bad values raise ``ValueError`` naming it."""

from __future__ import annotations

import ipaddress

import msgspec

from fabrikit.kernel import ConfigStruct
from fabrikit.kernel.security import Secret

from .directives import DirectiveError, parse_directive_list

MAX_PORT = 65535


class MockLlmConfig(ConfigStruct):
    host: str = "127.0.0.1"
    port: int = 8089
    allow_non_loopback: bool = False
    expected_api_key: Secret | None = None
    default_directives: str = ""
    models: dict[str, str] = msgspec.field(default_factory=dict)
    auto_tools: bool = True
    words_per_delta: int = 1
    hang_max_secs: float = 600
    record_limit: int = 1000
    record_body_max_bytes: int = 65536
    max_upload_bytes: int = 536870912
    coalesce_bytes: int = 16384

    def __post_init__(self) -> None:
        if isinstance(self.expected_api_key, str):
            # Plain strings are accepted from code; the config loader passes a Secret already.
            msgspec.structs.force_setattr(self, "expected_api_key", Secret(self.expected_api_key))
        if not 0 <= self.port <= MAX_PORT:
            raise ValueError(f"port: {self.port} is outside 0..{MAX_PORT}")
        if not self.allow_non_loopback and not is_loopback(self.host):
            raise ValueError(
                f"host: {self.host!r} is not loopback; set allow_non_loopback: true to expose it"
            )
        _positive("words_per_delta", self.words_per_delta)
        _positive("hang_max_secs", self.hang_max_secs)
        _positive("record_limit", self.record_limit)
        _positive("record_body_max_bytes", self.record_body_max_bytes)
        _positive("max_upload_bytes", self.max_upload_bytes)
        _positive("coalesce_bytes", self.coalesce_bytes)
        _check_directives("default_directives", self.default_directives)
        for model, directives in self.models.items():
            _check_directives(f"models.{model}", directives)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _positive(key: str, value: float) -> None:
    if value <= 0:
        raise ValueError(f"{key}: must be > 0, got {value}")


def _check_directives(key: str, text: str) -> None:
    try:
        parse_directive_list(text)
    except DirectiveError as exc:
        raise ValueError(f"{key}: {exc}") from None
