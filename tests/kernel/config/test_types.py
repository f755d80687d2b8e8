"""K-4.7: Duration, ByteSize, Secret and paths as config field types."""

from __future__ import annotations

import math
import pathlib

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.kernel._config import ByteSize, ConfigError, ConfigStruct, Duration, convert_config
from fabrikit.kernel.security import Secret
from tests.strategies.config import duration_units, size_units


class Limits(ConfigStruct):
    timeout: Duration = Duration(30)
    body: ByteSize = ByteSize(1024)
    api_key: Secret | None = None
    spool: pathlib.Path = pathlib.Path("spool")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (30, 30.0),
        (2.5, 2.5),
        ("250ms", 0.25),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("45", 45.0),
        (" 10 s ", 10.0),
        (0, 0.0),
    ],
)
def test_duration_forms(raw: object, seconds: float) -> None:
    value = convert_config({"timeout": raw}, Limits).timeout
    assert isinstance(value, Duration)
    assert value == seconds


@pytest.mark.parametrize("raw", ["5x", "1d", "-1s", "", "ms", "1h30m", True, [1]])
def test_duration_errors_name_the_key(raw: object) -> None:
    with pytest.raises(ConfigError) as err:
        convert_config({"timeout": raw}, Limits, "runtime")
    assert len(err.value.messages) == 1
    assert err.value.messages[0].startswith("runtime.timeout: ")


def test_duration_error_message() -> None:
    with pytest.raises(
        ConfigError, match=r"^x\.timeout: Expected a duration \(seconds or '<n>ms\|s\|m\|h'\), got '5x'$"
    ):
        convert_config({"timeout": "5x"}, Limits, "x")


def test_negative_and_infinite_durations_are_refused() -> None:
    for raw in (-1, math.inf):
        with pytest.raises(ValueError, match="finite number of seconds >= 0"):
            Duration.parse(raw)


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        (1048576, 1048576),
        ("512KiB", 512 * 1024),
        ("10MiB", 10 * 1024**2),
        ("1GB", 10**9),
        ("1.5KiB", 1536),
        ("64 kib", 64 * 1024),
        ("100", 100),
        ("7B", 7),
        (4096.0, 4096),
    ],
)
def test_byte_size_forms(raw: object, size: int) -> None:
    value = convert_config({"body": raw}, Limits).body
    assert isinstance(value, ByteSize)
    assert value == size


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("10XB", "Expected a byte size"),
        ("1.5B", "whole number of bytes"),
        (-1, ">= 0"),
        (True, "Expected a byte size"),
        (1.5, "Expected a byte size"),
    ],
)
def test_byte_size_errors(raw: object, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^body: .*{message}"):
        convert_config({"body": raw}, Limits)


def test_secret_field_is_wrapped_and_refuses_numbers() -> None:
    cfg = convert_config({"api_key": "sk-123"}, Limits)
    assert isinstance(cfg.api_key, Secret)
    assert cfg.api_key.reveal() == "sk-123"
    assert "sk-123" not in repr(cfg)
    with pytest.raises(ConfigError, match=r"^api_key: Expected a string \(quote numeric secrets\), got int$"):
        convert_config({"api_key": 1234}, Limits)


def test_path_field() -> None:
    assert convert_config({"spool": "a/b"}, Limits).spool == pathlib.Path("a/b")
    with pytest.raises(ConfigError, match=r"^spool: Expected a path string, got int 3$"):
        convert_config({"spool": 3}, Limits)


def test_config_struct_is_frozen_keyword_only_and_strict() -> None:
    cfg = Limits()
    with pytest.raises(AttributeError):
        cfg.timeout = Duration(1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Limits(Duration(1))  # type: ignore[misc]
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"nope": 1}, Limits)


class Ordered(ConfigStruct):
    optional: int = 1
    required: str


def test_subclass_fields_are_keyword_only_so_required_may_follow_optional() -> None:
    assert Ordered(required="x") == Ordered(optional=1, required="x")
    with pytest.raises(TypeError):
        Ordered(2, "x")  # type: ignore[misc]


@given(st.integers(min_value=0, max_value=10**6), duration_units)
def test_duration_integer_with_unit(n: int, unit: tuple[str, float]) -> None:
    suffix, factor = unit
    assert Duration.parse(f"{n}{suffix}") == pytest.approx(n * factor)


@given(st.integers(min_value=0, max_value=10**6), size_units)
def test_byte_size_integer_with_unit(n: int, unit: tuple[str, int]) -> None:
    suffix, factor = unit
    assert ByteSize.parse(f"{n}{suffix}") == n * factor
