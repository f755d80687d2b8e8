"""Hypothesis strategies for GTS identifiers and patterns (P-1.1)."""

from __future__ import annotations

from hypothesis import strategies as st

# Small alphabets make collisions (same vendor, same package…) likely, which is where matching gets interesting.
_FIRST = "abcdefghijklmnopqrstuvwxyz_"
_REST = _FIRST + "0123456789"
tokens = st.one_of(
    st.sampled_from(["a", "b", "acme", "globex", "x", "core", "_", "t_1"]),
    st.builds(lambda head, tail: head + tail, st.sampled_from(_FIRST), st.text(_REST, max_size=6)),
)
versions = st.one_of(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=2**32 - 1))
uuids = st.uuids().map(str)


@st.composite
def segments(draw: st.DrawFn) -> str:
    """One segment body without ``~``: ``vendor.package.namespace.type.vMAJOR[.MINOR]``."""
    names = [draw(tokens) for _ in range(4)]
    text = ".".join(names) + f".v{draw(versions)}"
    if draw(st.booleans()):
        text += f".{draw(versions)}"
    return text


@st.composite
def type_ids(draw: st.DrawFn, max_segments: int = 4) -> str:
    parts = draw(st.lists(segments(), min_size=1, max_size=max_segments))
    return "gts." + "".join(part + "~" for part in parts)


@st.composite
def instance_ids(draw: st.DrawFn, max_type_segments: int = 3) -> str:
    base = draw(type_ids(max_segments=max_type_segments))
    tail = draw(st.one_of(segments(), uuids))
    return base + tail


gts_ids = st.one_of(type_ids(), instance_ids())


@st.composite
def wildcard_prefixes(draw: st.DrawFn, gts_id: str) -> str:
    """A valid wildcard pattern cut from ``gts_id`` at a token boundary, so it matches ``gts_id``."""
    body = gts_id[len("gts.") :]
    # A cut after the final "~" would give "<type id>*", which matches children only, not the id itself.
    cuts = [0] + [i + 1 for i, ch in enumerate(body) if ch in ".~" and i + 1 < len(body)]
    # A cut inside a UUID tail is not a token boundary the grammar allows.
    last_tilde = body.rfind("~")
    tail = body[last_tilde + 1 :]
    if "-" in tail:
        cuts = [c for c in cuts if c <= last_tilde + 1]
    # The wildcard segment spells out at most five tokens before ``*``.
    cuts = [c for c in cuts if body[:c].split("~")[-1].count(".") <= 5]
    cut = draw(st.sampled_from(cuts))
    return "gts." + body[:cut] + "*"
