"""GTS id parsing (P-1.1.1–P-1.1.5): every rule with its exact message, segments, uuid pins."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from hypothesis import given

from fabrikit.modules.types_registry.sdk import GTS_ID_RE, GTS_NAMESPACE, GtsId, InvalidGtsId
from tests.strategies.gts import gts_ids, instance_ids, segments, type_ids

UUID_TAIL = "12345678-1234-1234-1234-123456789abc"

VALID = [
    "gts.a.b.c.d.v1~",
    "gts.x.core.modkit.plugin.v1~",
    "gts.x.core.modkit.plugin.v1~x.core.credstore.plugin.v1~",
    "gts.a.b.c.d.v0~",
    "gts.a.b.c.d.v1.0~",
    "gts.a.b.c.d.v1.3~",
    "gts.a.b.c.d.v4294967295.4294967295~",
    "gts.a.b._.d.v1~",
    "gts._a.b_1.c2.d_.v10~",
    "gts.a.b.c.d.v1~e.f.g.h.v1",
    "gts.a.b.c.d.v1~e.f.g.h.v1.2",
    f"gts.a.b.c.d.v1~{UUID_TAIL}",
    f"gts.a.b.c.d.v1~e.f.g.h.v2~{UUID_TAIL}",
    "gts.gts.b.c.d.v1~",
]

# (input, exact InvalidGtsId detail)
INVALID = [
    ("", "Invalid GTS ID '': Empty GTS ID"),
    ("   ", "Invalid GTS ID '': Empty GTS ID"),
    ("a.b.c.d.v1~", "Invalid GTS ID 'a.b.c.d.v1~': Must start with 'gts.'"),
    ("gts:a.b.c.d.v1~", "Invalid GTS ID 'gts:a.b.c.d.v1~': Must start with 'gts.'"),
    ("GTS.a.b.c.d.v1~", "Invalid GTS ID 'GTS.a.b.c.d.v1~': Must be lowercase"),
    ("gts.a.B.c.d.v1~", "Invalid GTS ID 'gts.a.B.c.d.v1~': Must be lowercase"),
    ("gts.", "Invalid GTS ID 'gts.': Segment #1: Empty segment (only a type id may end with '~')"),
    ("gts.~", "Invalid GTS ID 'gts.~': Segment #1: Empty segment (only a type id may end with '~')"),
    (
        "gts.a.b.c.d.v1~~",
        "Invalid GTS ID 'gts.a.b.c.d.v1~~': Segment #2: Empty segment (only a type id may end with '~')",
    ),
    (
        "gts.a.b.c.d.v1~~e.f.g.h.v1",
        "Invalid GTS ID 'gts.a.b.c.d.v1~~e.f.g.h.v1': Segment #2: Empty segment (only a type id may end with '~')",
    ),
    ("gts.a.b.c.v1~", "Invalid GTS ID 'gts.a.b.c.v1~': Segment #1: Too few tokens (got 4, min 5)"),
    (
        "gts.a.b.c.d.v1~e.f.g.v1~",
        "Invalid GTS ID 'gts.a.b.c.d.v1~e.f.g.v1~': Segment #2: Too few tokens (got 4, min 5)",
    ),
    (
        "gts.a.b.c.d.v1.2.3~",
        "Invalid GTS ID 'gts.a.b.c.d.v1.2.3~': Segment #1: Too many tokens (got 7, max 6)",
    ),
    (
        "gts.a.b.c.d.e.v1~",
        "Invalid GTS ID 'gts.a.b.c.d.e.v1~': Segment #1: Extra name token 'e' before the version "
        "(a segment is vendor.package.namespace.type.vMAJOR[.MINOR])",
    ),
    (
        "gts.1a.b.c.d.v1~",
        "Invalid GTS ID 'gts.1a.b.c.d.v1~': Segment #1: Invalid vendor token '1a' (must match [a-z_][a-z0-9_]*)",
    ),
    (
        "gts.a..c.d.v1~",
        "Invalid GTS ID 'gts.a..c.d.v1~': Segment #1: Invalid package token '' (must match [a-z_][a-z0-9_]*)",
    ),
    (
        "gts.a.b.c$.d.v1~",
        "Invalid GTS ID 'gts.a.b.c$.d.v1~': Segment #1: Invalid namespace token 'c$' (must match [a-z_][a-z0-9_]*)",
    ),
    (
        "gts.a.b.c.d!.v1~",
        "Invalid GTS ID 'gts.a.b.c.d!.v1~': Segment #1: Invalid type token 'd!' (must match [a-z_][a-z0-9_]*)",
    ),
    ("gts.a.b.c.d.1~", "Invalid GTS ID 'gts.a.b.c.d.1~': Segment #1: Version '1' must start with 'v'"),
    (
        "gts.a.b.c.d.v~",
        "Invalid GTS ID 'gts.a.b.c.d.v~': Segment #1: Major version must be an integer without leading zeros "
        "(got '')",
    ),
    (
        "gts.a.b.c.d.v01~",
        "Invalid GTS ID 'gts.a.b.c.d.v01~': Segment #1: Major version must be an integer without leading zeros "
        "(got '01')",
    ),
    (
        "gts.a.b.c.d.vx~",
        "Invalid GTS ID 'gts.a.b.c.d.vx~': Segment #1: Major version must be an integer without leading zeros "
        "(got 'x')",
    ),
    (
        "gts.a.b.c.d.v1.01~",
        "Invalid GTS ID 'gts.a.b.c.d.v1.01~': Segment #1: Minor version must be an integer without leading zeros "
        "(got '01')",
    ),
    (
        "gts.a.b.c.d.v1.x~",
        "Invalid GTS ID 'gts.a.b.c.d.v1.x~': Segment #1: Minor version must be an integer without leading zeros "
        "(got 'x')",
    ),
    (
        "gts.a.b.c.d.v4294967296~",
        "Invalid GTS ID 'gts.a.b.c.d.v4294967296~': Segment #1: Major version 4294967296 is out of range "
        "(must be < 2^32)",
    ),
    (
        "gts.a.b.c.d.v1.4294967296~",
        "Invalid GTS ID 'gts.a.b.c.d.v1.4294967296~': Segment #1: Minor version 4294967296 is out of range "
        "(must be < 2^32)",
    ),
    (
        "gts.a.b.c.d.v1",
        "Invalid GTS ID 'gts.a.b.c.d.v1': A single-segment instance id is not allowed "
        "(an instance id needs its type id first)",
    ),
    (
        "gts.acme.*",
        "Invalid GTS ID 'gts.acme.*': Wildcard '*' is not allowed in a GTS ID (patterns are for queries only)",
    ),
    (
        "gts.a.b.c.d.v1~*",
        "Invalid GTS ID 'gts.a.b.c.d.v1~*': Wildcard '*' is not allowed in a GTS ID (patterns are for queries only)",
    ),
    (
        "gts.a-b.c.d.e.v1~",
        "Invalid GTS ID 'gts.a-b.c.d.e.v1~': Segment #1: '-' is allowed only in a UUID tail "
        "(the last part of an instance id)",
    ),
    (
        f"gts.{UUID_TAIL}",
        f"Invalid GTS ID 'gts.{UUID_TAIL}': A UUID tail needs a type segment before it",
    ),
    (
        f"gts.a.b.c.d.v1~{UUID_TAIL}~",
        f"Invalid GTS ID 'gts.a.b.c.d.v1~{UUID_TAIL}~': Segment #2: '-' is allowed only in a UUID tail "
        "(the last part of an instance id)",
    ),
    (
        f"gts.a.b.c.d.v1~{UUID_TAIL}x",
        f"Invalid GTS ID 'gts.a.b.c.d.v1~{UUID_TAIL}x': Segment #2: '-' is allowed only in a UUID tail "
        "(the last part of an instance id)",
    ),
    (
        f"gts.a.b.c.d.v1~{UUID_TAIL.upper()}",
        f"Invalid GTS ID 'gts.a.b.c.d.v1~{UUID_TAIL.upper()}': Must be lowercase",
    ),
    (
        "gts.a.b.c.d.v1~gts.e.f.g.h.v1~",
        "Invalid GTS ID 'gts.a.b.c.d.v1~gts.e.f.g.h.v1~': Segment #2: The 'gts.' prefix appears only once, "
        "at the start of the id (Extra name token 'h' before the version "
        "(a segment is vendor.package.namespace.type.vMAJOR[.MINOR]))",
    ),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_ids_parse(text: str) -> None:
    parsed = GtsId.parse(text)
    assert parsed.id == text
    assert GTS_ID_RE.match(text)


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_ids_name_the_rule(text: str, message: str) -> None:
    with pytest.raises(InvalidGtsId) as info:
        GtsId.parse(text)
    assert info.value.detail == message
    assert info.value.code == "TYPES_REGISTRY_INVALID_GTS_ID"
    assert info.value.status == 400


def test_the_brief_example_message() -> None:
    with pytest.raises(InvalidGtsId, match=r"Segment #2: Too few tokens \(got 4, min 5\)"):
        GtsId.parse("gts.a.b.c.d.v1~a.b.c.d~")


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidGtsId, match="must be a string"):
        GtsId.parse(42)  # type: ignore[arg-type]


def test_surrounding_whitespace_is_trimmed() -> None:
    parsed = GtsId.parse("  \t gts.a.b.c.d.v1~ \n")
    assert parsed.id == "gts.a.b.c.d.v1~"
    assert parsed.uuid == GtsId.parse("gts.a.b.c.d.v1~").uuid


def test_a_hundred_char_token_is_fine() -> None:
    token = "a" * 100
    assert GtsId.parse(f"gts.{token}.b.c.d.v1~").segments[0].vendor == token


def _id_of_length(length: int) -> str:
    head = "gts.a.b.c.d.v1~"
    filler = "x" * (length - len(head) - len(".b.c.d.v1"))
    return f"{head}{filler}.b.c.d.v1"


def test_1024_chars_ok_1025_rejected() -> None:
    ok = _id_of_length(1024)
    assert len(ok) == 1024
    assert GtsId.parse(ok).id == ok
    too_long = _id_of_length(1025)
    with pytest.raises(InvalidGtsId) as info:
        GtsId.parse(too_long)
    assert info.value.detail.endswith(": Too long (1025 characters, max 1024)")
    assert len(info.value.detail) < 300, "the message shows a clipped id"


def test_length_is_counted_after_trimming() -> None:
    ok = _id_of_length(1024)
    assert GtsId.parse(f"   {ok}   ").id == ok


def test_segment_fields() -> None:
    parsed = GtsId.parse("gts.x.core.modkit.plugin.v1~acme.app.ns.widget.v2.7~acme.app.ns.one.v0")
    first, second, third = parsed.segments
    assert (first.num, first.offset, first.raw) == (1, 4, "x.core.modkit.plugin.v1~")
    assert (first.vendor, first.package, first.namespace, first.type_name) == (
        "x",
        "core",
        "modkit",
        "plugin",
    )
    assert (first.ver_major, first.ver_minor, first.is_type) == (1, None, True)
    assert (second.num, second.offset, second.raw) == (2, 28, "acme.app.ns.widget.v2.7~")
    assert (second.ver_major, second.ver_minor, second.is_type) == (2, 7, True)
    assert (third.num, third.raw, third.is_type, third.ver_major) == (3, "acme.app.ns.one.v0", False, 0)
    assert not any(seg.is_wildcard or seg.is_uuid_tail for seg in parsed.segments)


def test_uuid_tail_segment() -> None:
    parsed = GtsId.parse(f"gts.a.b.c.d.v1~{UUID_TAIL}")
    tail = parsed.segments[-1]
    assert tail.is_uuid_tail
    assert not tail.is_type
    assert tail.raw == UUID_TAIL
    assert tail.offset == len("gts.a.b.c.d.v1~")
    assert parsed.type_id == "gts.a.b.c.d.v1~"
    assert not parsed.is_schema


def test_is_schema_and_type_id() -> None:
    root = GtsId.parse("gts.a.b.c.d.v1~")
    assert root.is_schema
    assert root.type_id is None
    derived = GtsId.parse("gts.a.b.c.d.v1~e.f.g.h.v1.2~")
    assert derived.is_schema
    assert derived.type_id == "gts.a.b.c.d.v1~"
    instance = GtsId.parse("gts.a.b.c.d.v1~e.f.g.h.v1.2~i.j.k.l.v3")
    assert not instance.is_schema
    assert instance.type_id == "gts.a.b.c.d.v1~e.f.g.h.v1.2~"


def test_uuid_pins() -> None:
    assert UUID("63b06280-5dd6-517d-abc6-5a2127e843c3") == GTS_NAMESPACE
    parsed = GtsId.parse("gts.cf.core.am.tenant_metadata.v1~vendor.app.metadata.branding.v1~")
    assert parsed.uuid == UUID("1908c97f-00d4-5e43-9c33-d3904e7bcfa6")


def test_uuid_tails_get_a_uuid_too() -> None:
    text = f"gts.a.b.c.d.v1~{UUID_TAIL}"
    assert GtsId.parse(text).uuid == uuid5(uuid5(NAMESPACE_URL, "gts"), text)


@given(gts_ids)
def test_generated_ids_parse_and_agree_with_the_grammar(text: str) -> None:
    parsed = GtsId.parse(text)
    assert parsed.id == text
    assert GTS_ID_RE.match(text)
    assert "gts." + "".join(seg.raw for seg in parsed.segments) == text
    assert parsed.is_schema == text.endswith("~")


@given(type_ids(), segments())
def test_instance_type_id_is_its_type(type_id: str, tail: str) -> None:
    instance = GtsId.parse(type_id + tail)
    assert instance.type_id == type_id
    assert GtsId.parse(type_id + tail + "~").type_id == type_id


@given(instance_ids())
def test_offsets_locate_each_segment(text: str) -> None:
    for seg in GtsId.parse(text).segments:
        assert text[seg.offset : seg.offset + len(seg.raw)] == seg.raw


@given(gts_ids)
def test_uppercasing_breaks_an_id(text: str) -> None:
    with pytest.raises(InvalidGtsId, match="Must be lowercase"):
        GtsId.parse(text.upper())


@given(type_ids())
def test_dropping_a_segment_tilde_merges_tokens(text: str) -> None:
    body = text[:-1]
    if "~" in body:
        broken = body.replace("~", ".", 1) + "~"
        with pytest.raises(InvalidGtsId):
            GtsId.parse(broken)
