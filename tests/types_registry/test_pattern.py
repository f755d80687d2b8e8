"""GTS patterns (P-1.1.6) and matching (P-1.1.7): the spec's examples plus properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.modules.types_registry.sdk import GtsId, GtsPattern, InvalidGtsId
from tests.strategies.gts import gts_ids, segments, tokens, type_ids, wildcard_prefixes

UUID_TAIL = "12345678-1234-1234-1234-123456789abc"


@pytest.mark.parametrize(
    ("pattern", "gts_id", "expected"),
    [
        ("gts.acme.*", "gts.acme.x.y.z.v2~a.b.c.d.v1", True),
        ("gts.acme.*", "gts.acme.x.y.z.v2~", True),
        ("gts.acme.*", "gts.globex.x.y.z.v2~a.b.c.d.v1", False),
        ("gts.acme.*", "gts.globex.x.y.z.v2~acme.b.c.d.v1", False),
        # <spec>* covers instances and subtypes, not the spec itself
        ("gts.a.b.c.d.v1~*", "gts.a.b.c.d.v1~", False),
        ("gts.a.b.c.d.v1~*", "gts.a.b.c.d.v1~e.f.g.h.v1", True),
        ("gts.a.b.c.d.v1~*", "gts.a.b.c.d.v1~e.f.g.h.v1~", True),
        ("gts.a.b.c.d.v1~*", f"gts.a.b.c.d.v1~{UUID_TAIL}", True),
        ("gts.a.b.c.d.v1~*", "gts.a.b.c.d.v2~e.f.g.h.v1", False),
        # a literal pattern matches itself and ids extending it
        ("gts.a.b.c.d.v1~", "gts.a.b.c.d.v1~", True),
        ("gts.a.b.c.d.v1~", "gts.a.b.c.d.v1.3~", True),
        ("gts.a.b.c.d.v1~", "gts.a.b.c.d.v1~e.f.g.h.v1", True),
        ("gts.a.b.c.d.v1~", "gts.a.b.c.d.v2~", False),
        ("gts.a.b.c.d.v1.3~", "gts.a.b.c.d.v1~", False),
        ("gts.a.b.c.d.v1.3~", "gts.a.b.c.d.v1.3~", True),
        ("gts.a.b.c.d.v1.3~", "gts.a.b.c.d.v1.4~", False),
        ("gts.a.b.c.d.v1~e.f.g.h.v1", "gts.a.b.c.d.v1~e.f.g.h.v1~", False),
        # more pattern segments than id segments
        ("gts.a.b.c.d.v1~e.f.g.h.v1~", "gts.a.b.c.d.v1~", False),
        # v0 is a real major in a wildcard segment (the reference read it as "not given")
        ("gts.a.b.c.d.v0.*", "gts.a.b.c.d.v0~", True),
        ("gts.a.b.c.d.v0.*", "gts.a.b.c.d.v0.5~", True),
        ("gts.a.b.c.d.v0.*", "gts.a.b.c.d.v1.0~", False),
        ("gts.a.b.c.d.v0.*", "gts.a.b.c.d.v1~", False),
        ("gts.a.b.c.d.*", "gts.a.b.c.d.v7~", True),
        ("gts.a.b.c.d.*", "gts.a.b.c.e.v7~", False),
        ("gts.*", "gts.anything.at.all.here.v1~", True),
        # UUID tails compare raw text
        (f"gts.a.b.c.d.v1~{UUID_TAIL}", f"gts.a.b.c.d.v1~{UUID_TAIL}", True),
        (f"gts.a.b.c.d.v1~{UUID_TAIL}", "gts.a.b.c.d.v1~00000000-0000-0000-0000-000000000000", False),
        ("gts.a.b.c.d.v1~e.*", f"gts.a.b.c.d.v1~{UUID_TAIL}", False),
        # invalid id strings match nothing
        ("gts.*", "not-an-id", False),
    ],
)
def test_matching_examples(pattern: str, gts_id: str, expected: bool) -> None:
    assert GtsPattern.parse(pattern).matches(gts_id) is expected


def test_matches_accepts_parsed_ids() -> None:
    assert GtsPattern.parse("gts.acme.*").matches(GtsId.parse("gts.acme.x.y.z.v2~"))


def test_pattern_parts() -> None:
    wild = GtsPattern.parse("  gts.a.b.c.d.v1~e.f.*  ")
    assert wild.text == "gts.a.b.c.d.v1~e.f.*"
    assert wild.is_wildcard
    assert wild.wildcard_tokens == 2
    assert wild.prefix == "gts.a.b.c.d.v1~e.f."
    assert [seg.is_wildcard for seg in wild.segments] == [False, True]
    literal = GtsPattern.parse("gts.a.b.c.d.v1~")
    assert not literal.is_wildcard
    assert literal.prefix == "gts.a.b.c.d.v1~"


@pytest.mark.parametrize(
    ("pattern", "cause"),
    [
        ("acme.*", "Must start with 'gts.'"),
        ("gts.Acme.*", "Must be lowercase"),
        ("gts.a.*.*", "At most one '*' is allowed"),
        ("gts.a.*.c", "The '*' must end the pattern"),
        ("gts.a.b.c.d.v1*", "The '*' must be a whole token ('.*' or '~*')"),
        ("gts.ac*", "The '*' must be a whole token ('.*' or '~*')"),
        ("gts.a.b.c.d.v1~1x.*", "Segment #2: Invalid vendor token '1x' (must match [a-z_][a-z0-9_]*)"),
        ("gts.a.b.c.d.x.*", "Segment #1: Version 'x' must start with 'v'"),
        ("gts.a.b.c.d.v1.2.*", "Segment #1: Too many tokens (got 7, max 6)"),
        ("gts.a.b.c.v1~*", "Segment #1: Too few tokens (got 4, min 5)"),
        ("gts.a.b.c.d.v1~x-y.*", "'-' is not allowed in a wildcard pattern (a UUID tail cannot be partial)"),
        ("gts.a.b.c.d", "Segment #1: Too few tokens (got 4, min 5)"),
        (
            "gts.a.b.c.d.v1",
            "A single-segment instance id is not allowed (an instance id needs its type id first)",
        ),
    ],
)
def test_invalid_patterns(pattern: str, cause: str) -> None:
    with pytest.raises(InvalidGtsId) as info:
        GtsPattern.parse(pattern)
    assert info.value.detail == f"Invalid GTS wildcard pattern: {pattern}: {cause}"


def test_a_wildcard_segment_may_be_short() -> None:
    for text in ("gts.*", "gts.a.*", "gts.a.b.*", "gts.a.b.c.*", "gts.a.b.c.d.*", "gts.a.b.c.d.v1.*"):
        assert GtsPattern.parse(text).is_wildcard


@given(gts_ids)
def test_a_literal_pattern_matches_itself(text: str) -> None:
    assert GtsPattern.parse(text).matches(text)


@given(type_ids(), st.lists(segments(), min_size=1, max_size=2), st.booleans())
def test_a_literal_type_pattern_matches_ids_extending_it(
    type_id: str, more: list[str], as_type: bool
) -> None:
    extended = type_id + "~".join(more) + ("~" if as_type else "")
    assert GtsPattern.parse(type_id).matches(extended)


@given(type_ids())
def test_spec_star_matches_children_not_the_spec(type_id: str) -> None:
    pattern = GtsPattern.parse(type_id + "*")
    assert not pattern.matches(type_id)
    assert pattern.matches(type_id + "acme.app.ns.thing.v1")


@given(tokens, gts_ids)
def test_vendor_wildcard_matches_exactly_that_first_vendor(vendor: str, text: str) -> None:
    pattern = GtsPattern.parse(f"gts.{vendor}.*")
    assert pattern.matches(text) == (GtsId.parse(text).segments[0].vendor == vendor)


@given(gts_ids.flatmap(lambda text: st.tuples(st.just(text), wildcard_prefixes(text))))
def test_a_pattern_cut_from_an_id_matches_it(case: tuple[str, str]) -> None:
    text, pattern = case
    assert GtsPattern.parse(pattern).matches(text)


@given(gts_ids, gts_ids)
def test_literal_match_implies_shared_prefix_segments(pattern_text: str, text: str) -> None:
    pattern = GtsPattern.parse(pattern_text)
    if pattern.matches(text):
        target = GtsId.parse(text)
        assert len(pattern.segments) <= len(target.segments)
        for pat, seg in zip(pattern.segments, target.segments, strict=False):
            assert (pat.vendor, pat.package, pat.namespace, pat.type_name) == (
                seg.vendor,
                seg.package,
                seg.namespace,
                seg.type_name,
            )
