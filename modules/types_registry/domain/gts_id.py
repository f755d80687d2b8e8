"""GTS identifiers (P-1.1.1–P-1.1.5): parsing with one named error per rule, segments, uuid."""

from __future__ import annotations

import re
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from .errors import InvalidGtsId

GTS_PREFIX = "gts."
GTS_URI_PREFIX = "gts://"
MAX_ID_LENGTH = 1024
MAX_VERSION = 2**32  # exclusive
GTS_NAMESPACE = uuid5(NAMESPACE_URL, "gts")

TOKEN_PATTERN = r"[a-z_][a-z0-9_]*"
VERSION_PATTERN = r"(?:0|[1-9][0-9]*)"
SEGMENT_PATTERN = rf"{TOKEN_PATTERN}\.{TOKEN_PATTERN}\.{TOKEN_PATTERN}\.{TOKEN_PATTERN}\.v{VERSION_PATTERN}(?:\.{VERSION_PATTERN})?"
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The P-1.1.2 grammar. ``GtsId.parse`` applies it rule by rule so each failure can be named; the semantic
# rules (length, no single-segment instance) are checked on top of it.
GTS_ID_RE = re.compile(rf"^gts\.{SEGMENT_PATTERN}(?:~{SEGMENT_PATTERN})*(?:~|~{UUID_PATTERN})?$")

_TOKEN_RE = re.compile(rf"{TOKEN_PATTERN}\Z")
_VERSION_RE = re.compile(rf"{VERSION_PATTERN}\Z")
_UUID_RE = re.compile(rf"{UUID_PATTERN}\Z")
_NAME_FIELDS = ("vendor", "package", "namespace", "type")
_SHOWN_CHARS = 120


class GtsSegment(msgspec.Struct, frozen=True, kw_only=True):
    """One ``~``-separated part of a GTS id (P-1.1.4). ``raw`` keeps its trailing ``~``."""

    num: int
    offset: int
    raw: str
    vendor: str = ""
    package: str = ""
    namespace: str = ""
    type_name: str = ""
    ver_major: int = 0
    ver_minor: int | None = None
    is_type: bool = False
    is_wildcard: bool = False
    is_uuid_tail: bool = False


class GtsId(msgspec.Struct, frozen=True):
    """A validated GTS entity id: a type id (ends with ``~``) or an instance id."""

    id: str
    segments: tuple[GtsSegment, ...]

    @classmethod
    def parse(cls, text: str) -> GtsId:
        """Trim and validate ``text``; raise ``InvalidGtsId`` naming the broken rule."""
        if not isinstance(text, str):
            raise InvalidGtsId(f"GTS ID must be a string, got {type(text).__name__}")
        gts_id = text.strip()
        cause = id_rule_violation(gts_id)
        if cause is not None:
            raise invalid_gts_id(gts_id, cause)
        return cls(gts_id, _split_segments(gts_id))

    @classmethod
    def is_valid(cls, text: str) -> bool:
        try:
            cls.parse(text)
        except InvalidGtsId:
            return False
        return True

    @property
    def is_schema(self) -> bool:
        return self.id.endswith("~")

    @property
    def type_id(self) -> str | None:
        """The id of everything but the last segment: an instance's type, a derived schema's base."""
        if len(self.segments) < 2:
            return None
        return GTS_PREFIX + "".join(seg.raw for seg in self.segments[:-1])

    @property
    def uuid(self) -> UUID:
        return gts_uuid(self.id)

    @property
    def uri(self) -> str:
        return GTS_URI_PREFIX + self.id

    def __str__(self) -> str:
        return self.id


def gts_uuid(gts_id: str) -> UUID:
    """``uuid5(uuid5(NAMESPACE_URL, "gts"), gts_id)`` (P-1.1.5), stable across processes."""
    return uuid5(GTS_NAMESPACE, gts_id)


def strip_gts_uri(text: str) -> str:
    return text[len(GTS_URI_PREFIX) :] if text.startswith(GTS_URI_PREFIX) else text


def invalid_gts_id(text: str, cause: str) -> InvalidGtsId:
    shown = text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"
    err = InvalidGtsId(f"Invalid GTS ID '{shown}': {cause}")
    err.cause = cause  # type: ignore[attr-defined]
    return err


def split_parts(body: str) -> list[tuple[str, bool]]:
    """Split the text after ``gts.`` into ``(part, is_type)`` pairs; a trailing ``~`` ends a type id."""
    pieces = body.split("~")
    parts = [(piece, True) for piece in pieces[:-1]]
    if pieces[-1] or not parts:
        parts.append((pieces[-1], False))
    return parts


def segment_rule_violation(num: int, part: str) -> str | None:
    """The first broken rule of a non-UUID segment body (without ``~``), or None."""
    if not part:
        return f"Segment #{num}: Empty segment (only a type id may end with '~')"
    tokens = part.split(".")
    cause: str | None
    if len(tokens) < 5:
        cause = f"Segment #{num}: Too few tokens (got {len(tokens)}, min 5)"
    elif len(tokens) > 6:
        cause = f"Segment #{num}: Too many tokens (got {len(tokens)}, max 6)"
    else:
        cause = name_tokens_violation(num, tokens[:4]) or _version_violation(num, tokens)
    if cause is not None and num > 1 and part.startswith(GTS_PREFIX):
        detail = cause.removeprefix(f"Segment #{num}: ")
        return f"Segment #{num}: The 'gts.' prefix appears only once, at the start of the id ({detail})"
    return cause


def name_tokens_violation(num: int, tokens: list[str]) -> str | None:
    for field, token in zip(_NAME_FIELDS, tokens, strict=False):
        if not _TOKEN_RE.match(token):
            return f"Segment #{num}: Invalid {field} token '{token}' (must match {TOKEN_PATTERN})"
    return None


def major_violation(num: int, token: str) -> str | None:
    if not token.startswith("v"):
        return f"Segment #{num}: Version '{token}' must start with 'v'"
    return _integer_violation(num, "Major", token[1:])


def _version_violation(num: int, tokens: list[str]) -> str | None:
    if not tokens[4].startswith("v") and len(tokens) == 6 and tokens[5].startswith("v"):
        return (
            f"Segment #{num}: Extra name token '{tokens[4]}' before the version "
            "(a segment is vendor.package.namespace.type.vMAJOR[.MINOR])"
        )
    cause = major_violation(num, tokens[4])
    if cause is None and len(tokens) == 6:
        cause = _integer_violation(num, "Minor", tokens[5])
    return cause


def _integer_violation(num: int, which: str, digits: str) -> str | None:
    if not _VERSION_RE.match(digits):
        return f"Segment #{num}: {which} version must be an integer without leading zeros (got '{digits}')"
    if int(digits) >= MAX_VERSION:
        return f"Segment #{num}: {which} version {digits} is out of range (must be < 2^32)"
    return None


def id_rule_violation(gts_id: str) -> str | None:
    """The first P-1.1.3 rule a trimmed entity id breaks, or None."""
    if not gts_id:
        return "Empty GTS ID"
    if len(gts_id) > MAX_ID_LENGTH:
        return f"Too long ({len(gts_id)} characters, max {MAX_ID_LENGTH})"
    if gts_id != gts_id.lower():
        return "Must be lowercase"
    if not gts_id.startswith(GTS_PREFIX):
        return f"Must start with '{GTS_PREFIX}'"
    if "*" in gts_id:
        return "Wildcard '*' is not allowed in a GTS ID (patterns are for queries only)"
    parts = split_parts(gts_id[len(GTS_PREFIX) :])
    last, last_is_type = parts[-1]
    has_uuid_tail = not last_is_type and _UUID_RE.match(last) is not None
    for num, (part, _is_type) in enumerate(parts, start=1):
        is_tail = has_uuid_tail and num == len(parts)
        if "-" in part and not is_tail:
            return f"Segment #{num}: '-' is allowed only in a UUID tail (the last part of an instance id)"
        if is_tail:
            if num == 1:
                return "A UUID tail needs a type segment before it"
            continue
        cause = segment_rule_violation(num, part)
        if cause is not None:
            return cause
    if len(parts) == 1 and not last_is_type:
        return "A single-segment instance id is not allowed (an instance id needs its type id first)"
    return None


def _split_segments(gts_id: str) -> tuple[GtsSegment, ...]:
    segments: list[GtsSegment] = []
    offset = len(GTS_PREFIX)
    parts = split_parts(gts_id[len(GTS_PREFIX) :])
    for num, (part, is_type) in enumerate(parts, start=1):
        raw = part + "~" if is_type else part
        if num == len(parts) and not is_type and _UUID_RE.match(part):
            segments.append(GtsSegment(num=num, offset=offset, raw=raw, is_uuid_tail=True))
        else:
            segments.append(segment_from_tokens(num, offset, raw, part.split("."), is_type=is_type))
        offset += len(raw)
    return tuple(segments)


def segment_from_tokens(
    num: int, offset: int, raw: str, tokens: list[str], *, is_type: bool, is_wildcard: bool = False
) -> GtsSegment:
    """Build a segment from already-validated tokens; a wildcard segment may spell out fewer than five."""
    padded = [*tokens, "", "", "", ""][:4]
    major = int(tokens[4][1:]) if len(tokens) > 4 else 0
    minor = int(tokens[5]) if len(tokens) > 5 else None
    return GtsSegment(
        num=num,
        offset=offset,
        raw=raw,
        vendor=padded[0],
        package=padded[1],
        namespace=padded[2],
        type_name=padded[3],
        ver_major=major,
        ver_minor=minor,
        is_type=is_type,
        is_wildcard=is_wildcard,
    )
