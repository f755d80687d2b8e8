"""Cursor v1 (K-12.3): encoding, every decode failure, key text conversion."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.kernel.odata import CursorV1, InvalidCursor, key_from_text, key_to_text
from tests.strategies.odata import utc_datetimes


def _raw(body: object, *, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    return text if pad else text.rstrip("=")


GOOD = {"v": 1, "k": ["a", "1"], "o": "desc", "s": "+title,-id", "f": "0123456789abcdef", "d": "bwd"}


def test_encoding_is_unpadded_base64url_of_compact_json() -> None:
    cursor = CursorV1(k=("a>?", "1"), o="desc", s="+title,-id", f="0123456789abcdef", d="bwd")
    text = cursor.encode()
    assert "=" not in text
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert raw == b'{"v":1,"k":["a>?","1"],"o":"desc","s":"+title,-id","f":"0123456789abcdef","d":"bwd"}'


def test_filter_hash_is_optional_and_direction_defaults_to_fwd() -> None:
    text = CursorV1(k=("1",), o="asc", s="+id").encode()
    assert json.loads(base64.urlsafe_b64decode(text + "==")) == {
        "v": 1,
        "k": ["1"],
        "o": "asc",
        "s": "+id",
        "d": "fwd",
    }
    decoded = CursorV1.decode(_raw({"v": 1, "k": ["1"], "o": "asc", "s": "+id"}))
    assert (decoded.f, decoded.d) == (None, "fwd")


def test_decode_accepts_padding() -> None:
    assert CursorV1.decode(_raw(GOOD, pad=True)) == CursorV1.decode(_raw(GOOD))


@given(
    k=st.lists(st.text(), min_size=1, max_size=4),
    o=st.sampled_from(["asc", "desc"]),
    f=st.none() | st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
    d=st.sampled_from(["fwd", "bwd"]),
    data=st.data(),
)
def test_round_trip(k: list[str], o: str, f: str | None, d: str, data: st.DataObject) -> None:
    signs = data.draw(st.lists(st.sampled_from("+-"), min_size=len(k), max_size=len(k)))
    spec = ",".join(f"{sign}f{i}" for i, sign in enumerate(signs))
    cursor = CursorV1(k=tuple(k), o=o, s=spec, f=f, d=d)  # type: ignore[arg-type]
    assert CursorV1.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("A" * 8193, "too long"),
        ("abc!", "base64url"),
        ("YWJjZA=x", "base64url"),
        ("YWJjZB", "base64url"),  # non-canonical trailing bits
        ("é", "base64url"),
        (_raw("x").replace("=", "") + "", "JSON object"),
        (base64.urlsafe_b64encode(b"{not json").decode().rstrip("="), "JSON"),
        (_raw({**GOOD, "v": 2}), "version"),
        (_raw({**GOOD, "v": True}), "version"),
        (_raw({**GOOD, "v": "1"}), "version"),
        (_raw({k: v for k, v in GOOD.items() if k != "v"}), "version"),
        (_raw({**GOOD, "k": []}), "non-empty list"),
        (_raw({**GOOD, "k": "a"}), "non-empty list"),
        (_raw({**GOOD, "k": ["a", 1]}), "non-empty list"),
        (_raw({**GOOD, "o": "up"}), "'o'"),
        (_raw({k: v for k, v in GOOD.items() if k != "o"}), "'o'"),
        (_raw({**GOOD, "s": ""}), "'s'"),
        (_raw({**GOOD, "s": "title,-id"}), "'s'"),
        (_raw({**GOOD, "s": "+a,+a"}), "'s'"),
        (_raw({**GOOD, "s": 5}), "'s'"),
        (_raw({**GOOD, "s": "+title"}), "number of keys"),
        (_raw({**GOOD, "f": "XYZ"}), "'f'"),
        (_raw({**GOOD, "f": "0123456789ABCDEF"}), "'f'"),
        (_raw({**GOOD, "d": "back"}), "'d'"),
    ],
)
def test_decode_failures(text: str, fragment: str) -> None:
    with pytest.raises(InvalidCursor) as info:
        CursorV1.decode(text)
    assert fragment in info.value.detail
    assert (info.value.status, info.value.code) == (422, "invalid_cursor")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (UUID("ABCDEF12-1234-1234-1234-123456789ABC"), "abcdef12-1234-1234-1234-123456789abc"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05.000000Z"),
        (
            datetime(2024, 1, 2, 5, 4, 5, 7, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T03:04:05.000007Z",
        ),
        (datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05.000000Z"),
        (datetime(5, 1, 2, tzinfo=UTC), "0005-01-02T00:00:00.000000Z"),
        (42, "42"),
        (-1.5, "-1.5"),
        (Decimal("2.50"), "2.50"),
        (True, "true"),
        (False, "false"),
        ("héllo", "héllo"),
        (date(2024, 2, 29), "2024-02-29"),
        (time(1, 2, 3, 4), "01:02:03.000004"),
    ],
)
def test_key_to_text(value: object, text: str) -> None:
    assert key_to_text(value) == text


def test_key_to_text_refuses_null_and_unknown_types() -> None:
    with pytest.raises(ValueError, match="null"):
        key_to_text(None)
    with pytest.raises(TypeError):
        key_to_text(object())


@given(
    st.one_of(
        st.tuples(st.just("string"), st.text()),
        st.tuples(st.just("int"), st.integers(-(2**63), 2**63 - 1)),
        st.tuples(st.just("float"), st.floats(allow_nan=False, allow_infinity=False)),
        st.tuples(st.just("decimal"), st.decimals(allow_nan=False, allow_infinity=False)),
        st.tuples(st.just("bool"), st.booleans()),
        st.tuples(st.just("uuid"), st.uuids()),
        st.tuples(st.just("datetime"), utc_datetimes),
        st.tuples(st.just("date"), st.dates()),
        st.tuples(st.just("time"), st.times()),
    )
)
def test_key_text_round_trip(pair: tuple[str, object]) -> None:
    kind, value = pair
    assert key_from_text(key_to_text(value), kind) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("x", "int"), ("1.5", "int"), ("nan", "float"), ("1e999", "float"), ("yes", "bool"), ("True", "bool"),
     ("nope", "uuid"), ("2024-01-01", "datetime"), ("2024-13-01", "date"), ("24:00", "time"), ("NaN", "decimal")],
)  # fmt: skip
def test_key_from_text_failures(text: str, kind: str) -> None:
    with pytest.raises(InvalidCursor):
        key_from_text(text, kind)  # type: ignore[arg-type]
