"""K-4.8: redaction of the effective config for ``check --print-config``."""

from __future__ import annotations

from typing import Any

from fabrikit.kernel._config import build_config, redact, redact_string
from fabrikit.kernel.security import Secret


def test_secrets_and_sensitive_keys_are_redacted() -> None:
    raw: dict[str, Any] = {
        "database": {"servers": {"pg": {"password": "pw", "user": "app"}}},
        "modules": {
            "oagw": {
                "config": {
                    "upstreams": [
                        {"api_key": "sk-1", "apiKey": "sk-2", "headers": {"Authorization": "Bearer abcdefgh"}}
                    ],
                    "client_secret": "cs",
                    "credentials": {"id": "x"},
                    "token_url": "https://idp/token",
                }
            }
        },
        "wrapped": Secret("hidden"),
    }
    out = redact(raw)
    assert out["database"]["servers"]["pg"] == {"password": "[REDACTED]", "user": "app"}
    upstream = out["modules"]["oagw"]["config"]["upstreams"][0]
    assert upstream == {
        "api_key": "[REDACTED]",
        "apiKey": "[REDACTED]",
        "headers": {"Authorization": "[REDACTED]"},
    }
    assert out["modules"]["oagw"]["config"]["client_secret"] == "[REDACTED]"
    assert out["modules"]["oagw"]["config"]["credentials"] == "[REDACTED]"
    assert out["wrapped"] == "[REDACTED]"
    assert raw["database"]["servers"]["pg"]["password"] == "pw"  # a copy


def test_counts_under_matching_keys_stay_visible() -> None:
    assert redact(
        {"max_output_tokens": 4096, "token_budget": 1.5, "secret_rotation": False, "password": None}
    ) == {
        "max_output_tokens": 4096,
        "token_budget": 1.5,
        "secret_rotation": False,
        "password": None,
    }


def test_credentials_inside_strings_are_masked() -> None:
    assert redact_string("postgresql://app:s3cret@db:5432/app") == "postgresql://app:[REDACTED]@db:5432/app"
    assert (
        redact_string("https://h/v1?model=x&api_key=abc&token=t")
        == "https://h/v1?model=x&api_key=[REDACTED]&token=[REDACTED]"
    )
    assert redact_string("sent Bearer abc.def-123 upstream") == "sent Bearer [REDACTED] upstream"
    assert redact_string("a basic idea, http://host/path") == "a basic idea, http://host/path"


def test_header_pairs_are_redacted() -> None:
    assert redact([("Authorization", "Basic dXNlcjpw"), ("Accept", "text/plain")]) == [
        ("Authorization", "[REDACTED]"),
        ("Accept", "text/plain"),
    ]


def test_print_config_flow_over_loaded_raw() -> None:
    cfg = build_config({"database": {"servers": {"pg": {"dsn": "postgresql://u:pw@h/d"}}}})
    printed = redact(cfg.raw)
    assert printed == {"database": {"servers": {"pg": {"dsn": "postgresql://u:[REDACTED]@h/d"}}}}
