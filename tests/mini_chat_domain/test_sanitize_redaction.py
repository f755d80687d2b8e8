"""C-9.8 sanitization and CI-17.5 audit redaction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.mini_chat.domain.redaction import (
    TRUNCATED_SUFFIX,
    redact,
    redact_field,
    truncate_utf8,
)
from fabrikit.modules.mini_chat.domain.sanitize import sanitize_provider_text

SK = "sk-proj-AbC123def456GHI789jkl"
BEARER = "Bearer eyJhbGciOi.J9eyJzdWIiOiIx.MjM0NTY3ODkwIn0"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcdEFGH==\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("bad response resp_68a1b2c3d4", "bad response [provider_id]"),
        ("id chatcmpl-9xYz12 failed", "id [provider_id] failed"),
        ("cmpl-abc123 failed", "[provider_id] failed"),
        ("item msg_0123abcd", "item [provider_id]"),
        ("file file-AbCdEf1234 missing", "file [provider_id] missing"),
        ("store vs_abc123 gone", "store [provider_id] gone"),
        ("see https://api.openai.com/v1/responses?x=1 now", "see [url] now"),
        (f"key {SK} bad", "key [credential] bad"),
        (f"header {BEARER}", "header Bearer [credential]"),
        ("file-search is fine", "file-search is fine"),
    ],
)
def test_sanitize(raw: str, expected: str) -> None:
    assert sanitize_provider_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected", "label"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer [REDACTED]", "bearer"),
        ("token eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4 end", "token [REDACTED_JWT] end", "jwt"),
        (f"my key {SK}", "my key [REDACTED_OPENAI_KEY]", "openai_key"),
        ("aws AKIAIOSFODNN7EXAMPLE ok", "aws [REDACTED_AWS_ACCESS_KEY_ID] ok", "aws_access_key_id"),
        ("api-key: 0123456789abcdef", "api-key: [REDACTED_AZURE_KEY]", "azure_key"),
        ("Ocp-Apim-Subscription-Key: abc", "Ocp-Apim-Subscription-Key: [REDACTED_AZURE_KEY]", "azure_key"),
        ("password=hunter2&x=1", "password=[REDACTED]&x=1", "secret_value"),
        ("client_secret: s3cr3t", "client_secret: [REDACTED]", "secret_value"),
        ('{"access_token": "a b c", "n": 1}', '{"access_token": "[REDACTED]", "n": 1}', "secret_value"),
        ("x-api-key: zzz", "x-api-key: [REDACTED]", "secret_value"),
        ("refresh_token='r'", "refresh_token='[REDACTED]'", "secret_value"),
        (f"before\n{PEM}\nafter", "before\n[REDACTED_PRIVATE_KEY]\nafter", "private_key"),
        ("blob " + "A" * 250 + " end", "blob " + "A" * 16 + "…[TRUNCATED_LONG_TOKEN] end", "long_token"),
    ],
)
def test_each_redaction_pattern(raw: str, expected: str, label: str) -> None:
    text, hits = redact(raw)
    assert text == expected
    assert hits[label] >= 1


def test_base64_run_of_200_is_kept() -> None:
    assert redact("A" * 200)[0] == "A" * 200


_FILLER = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@given(_FILLER, _FILLER, st.sampled_from([SK, BEARER, PEM]))
def test_secrets_never_survive(prefix: str, suffix: str, secret: str) -> None:
    text = f"{prefix} {secret} {suffix}"
    redacted, hits = redact(text)
    assert sum(hits.values()) >= 1
    assert "sk-proj-AbC123" not in redacted
    assert "eyJhbGciOi.J9eyJzdWIiOiIx" not in redacted
    assert "MIIEpAIBAAKCAQEA" not in redacted
    sanitized = sanitize_provider_text(text)
    assert "sk-proj-AbC123" not in sanitized
    assert "J9eyJzdWIiOiIx" not in sanitized


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=400), st.integers(20, 300))
def test_truncation_is_utf8_safe_and_bounded(text: str, limit: int) -> None:
    cut, truncated = truncate_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= limit
    assert truncated == (len(text.encode("utf-8")) > limit)
    if truncated:
        assert cut.endswith(TRUNCATED_SUFFIX)
        assert text.startswith(cut[: -len(TRUNCATED_SUFFIX)])
    else:
        assert cut == text


def test_redact_field_redacts_then_truncates() -> None:
    result = redact_field(f"{SK} " + "é" * 500, 256)
    assert result.text.startswith("[REDACTED_OPENAI_KEY] ")
    assert result.truncated
    assert result.text.endswith(TRUNCATED_SUFFIX)
    assert len(result.text.encode()) <= 256
    assert result.hits == {"openai_key": 1}
