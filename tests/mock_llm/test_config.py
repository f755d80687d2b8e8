"""Config (M-2) and loopback rule (M-1.2)."""

from __future__ import annotations

import msgspec
import pytest

from fabrikit.kernel.security import Secret, secret_dec_hook
from fabrikit.modules.mock_llm import MockLlmConfig


def test_defaults_match_the_spec() -> None:
    config = MockLlmConfig()
    assert msgspec.structs.asdict(config) == {
        "host": "127.0.0.1",
        "port": 8089,
        "allow_non_loopback": False,
        "expected_api_key": None,
        "default_directives": "",
        "models": {},
        "auto_tools": True,
        "words_per_delta": 1,
        "hang_max_secs": 600,
        "record_limit": 1000,
        "record_body_max_bytes": 65536,
        "max_upload_bytes": 536870912,
        "coalesce_bytes": 16384,
    }


def test_unknown_keys_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="colour"):
        msgspec.convert({"colour": "red"}, MockLlmConfig)


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"host": "0.0.0.0"}, "host"),
        ({"host": "example.com"}, "host"),
        ({"port": 70000}, "port"),
        ({"words_per_delta": 0}, "words_per_delta"),
        ({"hang_max_secs": 0}, "hang_max_secs"),
        ({"record_limit": 0}, "record_limit"),
        ({"coalesce_bytes": -1}, "coalesce_bytes"),
        ({"default_directives": "lorem=x"}, "default_directives"),
        ({"models": {"mock-slow": "warp=9"}}, "models.mock-slow"),
    ],
)
def test_bad_values_name_the_key(fields: dict, key: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=key):
        MockLlmConfig(**fields)


def test_non_loopback_needs_opt_in() -> None:
    assert MockLlmConfig(host="0.0.0.0", allow_non_loopback=True).host == "0.0.0.0"
    assert MockLlmConfig(host="::1").host == "::1"
    assert MockLlmConfig(host="localhost").host == "localhost"


def test_api_key_is_a_secret() -> None:
    config = msgspec.convert({"expected_api_key": "sk-123"}, MockLlmConfig, dec_hook=secret_dec_hook)
    assert isinstance(config.expected_api_key, Secret)
    assert "sk-123" not in repr(config)
    assert MockLlmConfig(expected_api_key="sk-9").expected_api_key == Secret("sk-9")  # type: ignore[arg-type]
