"""Splits ``$filter`` text into tokens; literal tokens carry their parsed ``Value``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal as _Literal

from ._ast import Value, ValueKind
from ._errors import InvalidFilter
from ._literals import (
    DATE_PATTERN,
    DATETIME_PATTERN,
    TIME_PATTERN,
    UUID_PATTERN,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_float,
    parse_int,
    parse_time,
    parse_uuid,
)

TokenKind = _Literal["ident", "keyword", "literal", "(", ")", ",", "end"]

KEYWORDS = frozenset(
    {"and", "or", "not", "in", "eq", "ne", "gt", "ge", "lt", "le", "contains", "startswith", "endswith"}
)
_WORD_LITERALS: dict[str, Value] = {
    "true": Value("bool", True),
    "false": Value("bool", False),
    "null": Value("null", None),
}

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# Order matters: the first alternative that matches wins (a uuid may start with letters or digits, a datetime
# starts like a date, a time like an integer).
_WORD_RE = re.compile(
    rf"(?P<uuid>{UUID_PATTERN})"
    rf"|(?P<datetime>{DATETIME_PATTERN})"
    rf"|(?P<date>{DATE_PATTERN})"
    rf"|(?P<time>{TIME_PATTERN})"
    r"|(?P<float>-?\d+(?:\.\d+)?[eE][+-]?\d+)"
    r"|(?P<decimal>-?\d+\.\d+)"
    r"|(?P<int>-?\d+)"
    rf"|(?P<ident>{_IDENT}(?:/{_IDENT})*)"
)
# A word must end where one of these does not follow; "1.2.3" or "2024-01-01T10:00" is one bad word, not two.
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/+-")
_WHITESPACE = frozenset(" \t\r\n")

_PARSERS = {
    "uuid": parse_uuid,
    "datetime": parse_datetime,
    "date": parse_date,
    "time": parse_time,
    "float": parse_float,
    "decimal": parse_decimal,
    "int": parse_int,
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    pos: int  # 1-based
    value: Value | None = None

    def describe(self) -> str:
        return "end of filter" if self.kind == "end" else repr(self.text)


def syntax_error(message: str, pos: int) -> InvalidFilter:
    return InvalidFilter(f"{message} at position {pos}", position=pos)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch in "(),":
            tokens.append(Token(ch, ch, i + 1))  # type: ignore[arg-type]
            i += 1
        elif ch == "'":
            token, i = _string(text, i)
            tokens.append(token)
        else:
            token, i = _word(text, i)
            tokens.append(token)
    tokens.append(Token("end", "", n + 1))
    return tokens


def _string(text: str, start: int) -> tuple[Token, int]:
    parts: list[str] = []
    i = start + 1
    while True:
        end = text.find("'", i)
        if end < 0:
            raise syntax_error("unterminated string literal", start + 1)
        parts.append(text[i:end])
        if text.startswith("''", end):
            parts.append("'")
            i = end + 2
            continue
        value = "".join(parts)
        return Token("literal", text[start : end + 1], start + 1, Value("string", value)), end + 1


def _word(text: str, start: int) -> tuple[Token, int]:
    end = start
    while end < len(text) and text[end] in _WORD_CHARS:
        end += 1
    word = text[start:end]
    if not word:
        raise syntax_error(f"unexpected character {text[start]!r}", start + 1)
    m = _WORD_RE.fullmatch(word)
    if m is None:
        raise syntax_error(f"invalid token {word!r}", start + 1)
    kind = m.lastgroup
    if kind == "ident":
        if word in _WORD_LITERALS:
            return Token("literal", word, start + 1, _WORD_LITERALS[word]), end
        return Token("keyword" if word in KEYWORDS else "ident", word, start + 1), end
    assert kind is not None
    value = _PARSERS[kind](word)
    if value is None:
        raise syntax_error(f"invalid {kind} literal {word!r}", start + 1)
    literal_kind: ValueKind = kind  # type: ignore[assignment]
    return Token("literal", word, start + 1, Value(literal_kind, value)), end
