"""Text forms of literal values, shared by the lexer, the type checker and the cursor codec."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from uuid import UUID

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

UUID_PATTERN = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
DATETIME_PATTERN = r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})"
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
TIME_PATTERN = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"

_UUID_RE = re.compile(UUID_PATTERN)
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME_RE = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?")
_INT_RE = re.compile(r"-?\d+")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _micros(fraction: str | None) -> int:
    # Digits past the microsecond are truncated: Python and both databases store microseconds.
    return int((fraction or "")[:6].ljust(6, "0"))


def parse_uuid(text: str) -> UUID | None:
    return UUID(text) if _UUID_RE.fullmatch(text) else None


def parse_datetime(text: str) -> datetime | None:
    """RFC 3339 with a mandatory offset, returned as an aware UTC datetime."""
    m = _DATETIME_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    if m.group(8):
        tz = UTC
    else:
        offset = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        if offset >= timedelta(hours=24):
            return None
        tz = timezone(-offset if m.group(9) == "-" else offset)
    try:
        value = datetime(year, month, day, hour, minute, second, _micros(m.group(7)), tzinfo=tz)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_date(text: str) -> date | None:
    m = _DATE_RE.fullmatch(text)
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    m = _TIME_RE.fullmatch(text)
    if m is None:
        return None
    try:
        return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), _micros(m.group(4)))
    except ValueError:
        return None


def parse_int(text: str) -> int | None:
    if not _INT_RE.fullmatch(text) or len(text) > 20:
        return None
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else None


def parse_float(text: str) -> float | None:
    if not _NUMBER_RE.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_decimal(text: str) -> Decimal | None:
    if not _NUMBER_RE.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (fabrikit stores UTC everywhere)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    # isoformat, unlike strftime("%Y"), zero-pads years before 1000.
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def format_time(value: time) -> str:
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def format_float(value: float) -> str:
    # An exponent keeps the text a float literal: "1.5" alone would read back as a decimal.
    text = repr(value)
    return text if "e" in text else f"{text}e0"


def format_decimal(value: Decimal) -> str:
    # A point keeps the text a decimal literal: "100" alone would read back as an int.
    text = format(value, "f")
    return text if "." in text else f"{text}.0"


def canonical_decimal(value: Decimal) -> str:
    """One spelling per number value, so equal decimals hash equally (1.50 == 1.5)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text
