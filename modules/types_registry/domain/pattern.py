"""GTS query patterns (P-1.1.6) and matching (P-1.1.7)."""

from __future__ import annotations

import msgspec

from .errors import InvalidGtsId
from .gts_id import (
    GTS_PREFIX,
    MAX_ID_LENGTH,
    GtsId,
    GtsSegment,
    id_rule_violation,
    major_violation,
    name_tokens_violation,
    segment_from_tokens,
    segment_rule_violation,
)

_SHOWN_CHARS = 120


class GtsPattern(msgspec.Struct, frozen=True):
    """A literal GTS id or an id prefix ending in one whole-token ``*`` (``gts.acme.*``, ``<type id>*``).

    ``wildcard_tokens`` is how many tokens the wildcard segment spells out before ``*`` (0 for a bare ``*``).
    """

    text: str
    segments: tuple[GtsSegment, ...]
    is_wildcard: bool = False
    wildcard_tokens: int = 0

    @classmethod
    def parse(cls, text: str) -> GtsPattern:
        if not isinstance(text, str):
            raise InvalidGtsId(f"Invalid GTS wildcard pattern: {text!r}: must be a string")
        pattern = text.strip()
        if "*" not in pattern:
            cause = id_rule_violation(pattern)
            if cause is not None:
                raise _invalid(pattern, cause)
            return cls(pattern, GtsId.parse(pattern).segments)
        cause = _wildcard_rule_violation(pattern)
        if cause is not None:
            raise _invalid(pattern, cause)
        return _wildcard(pattern)

    @property
    def prefix(self) -> str:
        """Text before the ``*`` (the whole text for a literal pattern)."""
        return self.text[:-1] if self.is_wildcard else self.text

    def matches(self, gts_id: str | GtsId) -> bool:
        """Whether ``gts_id`` falls under this pattern; an invalid id string matches nothing."""
        if isinstance(gts_id, str):
            try:
                gts_id = GtsId.parse(gts_id)
            except InvalidGtsId:
                return False
        targets = gts_id.segments
        if len(self.segments) > len(targets):
            return False
        for pat, seg in zip(self.segments, targets, strict=False):
            if pat.is_wildcard:
                return _wildcard_segment_matches(pat, seg, self.wildcard_tokens)
            if not _literal_segment_matches(pat, seg):
                return False
        return True

    def __str__(self) -> str:
        return self.text


def _literal_segment_matches(pat: GtsSegment, seg: GtsSegment) -> bool:
    if pat.is_uuid_tail or seg.is_uuid_tail:
        return pat.raw == seg.raw
    same = (
        pat.vendor == seg.vendor
        and pat.package == seg.package
        and pat.namespace == seg.namespace
        and pat.type_name == seg.type_name
        and pat.ver_major == seg.ver_major
        and pat.is_type == seg.is_type
    )
    return same and (pat.ver_minor is None or pat.ver_minor == seg.ver_minor)


def _wildcard_segment_matches(pat: GtsSegment, seg: GtsSegment, given: int) -> bool:
    if given == 0:
        return True
    if seg.is_uuid_tail:
        return False
    wanted = (pat.vendor, pat.package, pat.namespace, pat.type_name)[:given]
    actual = (seg.vendor, seg.package, seg.namespace, seg.type_name)[:given]
    # The major is compared whenever it is spelled out, v0 included (P-1.1.7 Fix).
    return wanted == actual and (given < 5 or pat.ver_major == seg.ver_major)


def _invalid(pattern: str, cause: str) -> InvalidGtsId:
    shown = pattern if len(pattern) <= _SHOWN_CHARS else pattern[:_SHOWN_CHARS] + "…"
    err = InvalidGtsId(f"Invalid GTS wildcard pattern: {shown}: {cause}")
    err.cause = cause  # type: ignore[attr-defined]
    return err


def _wildcard_rule_violation(pattern: str) -> str | None:
    if len(pattern) > MAX_ID_LENGTH:
        return f"Too long ({len(pattern)} characters, max {MAX_ID_LENGTH})"
    if pattern != pattern.lower():
        return "Must be lowercase"
    if not pattern.startswith(GTS_PREFIX):
        return f"Must start with '{GTS_PREFIX}'"
    if pattern.count("*") > 1:
        return "At most one '*' is allowed"
    if not pattern.endswith("*"):
        return "The '*' must end the pattern"
    if pattern[-2] not in ".~":
        return "The '*' must be a whole token ('.*' or '~*')"
    if "-" in pattern:
        return "'-' is not allowed in a wildcard pattern (a UUID tail cannot be partial)"
    pieces = pattern[len(GTS_PREFIX) : -1].split("~")
    for num, piece in enumerate(pieces[:-1], start=1):
        cause = segment_rule_violation(num, piece)
        if cause is not None:
            return cause
    num = len(pieces)
    tokens = pieces[-1][:-1].split(".") if pieces[-1] else []
    if len(tokens) > 5:
        return f"Segment #{num}: Too many tokens (got {len(tokens) + 1}, max 6)"
    cause = name_tokens_violation(num, tokens[:4])
    if cause is None and len(tokens) == 5:
        cause = major_violation(num, tokens[4])
    return cause


def _wildcard(pattern: str) -> GtsPattern:
    pieces = pattern[len(GTS_PREFIX) : -1].split("~")
    segments: list[GtsSegment] = []
    offset = len(GTS_PREFIX)
    for num, piece in enumerate(pieces[:-1], start=1):
        raw = piece + "~"
        segments.append(segment_from_tokens(num, offset, raw, piece.split("."), is_type=True))
        offset += len(raw)
    tokens = pieces[-1][:-1].split(".") if pieces[-1] else []
    raw = pieces[-1] + "*"
    segments.append(segment_from_tokens(len(pieces), offset, raw, tokens, is_type=False, is_wildcard=True))
    return GtsPattern(pattern, tuple(segments), is_wildcard=True, wildcard_tokens=len(tokens))
