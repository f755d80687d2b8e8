"""Proxy URI parsing shared by ``ProxyRequest.from_uri`` and the REST proxy (G-11.2).

Paths stay percent-encoded in a canonical form (unreserved escapes decoded, hex upper-cased, characters outside
RFC 3986 ``pchar`` encoded) so the upstream receives exactly what was matched. Queries are decoded into
``(name, value)`` pairs and re-encoded on the way out; ``+`` is a literal plus, not a space.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, unquote

from ._sdk_errors import ValidationError

_HEX = "0123456789abcdefABCDEF"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCHAR = _UNRESERVED | frozenset("!$&'()*+,;=:@")


def _canonical_segment(raw: str) -> tuple[str, str]:
    """(canonical encoded segment, decoded text); rejects what G-11.2 forbids."""
    out: list[str] = []
    raw_bytes: list[int] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "%":
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                raise ValidationError("path has a malformed percent-encoding")
            byte = int(pair, 16)
            if byte in (0x2F, 0x5C):
                raise ValidationError("path segments must not contain an encoded '/' or '\\'")
            if byte == 0:
                raise ValidationError("path must not contain NUL")
            raw_bytes.append(byte)
            out.append(chr(byte) if chr(byte) in _UNRESERVED else f"%{byte:02X}")
            i += 3
            continue
        if ch == "\\":
            raise ValidationError("path must not contain '\\'")
        if ch == "\0":
            raise ValidationError("path must not contain NUL")
        encoded = ch.encode("utf-8")
        raw_bytes.extend(encoded)
        out.append(ch if ch in _PCHAR else "".join(f"%{b:02X}" for b in encoded))
        i += 1
    try:
        decoded = bytes(raw_bytes).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("path is not valid percent-encoded UTF-8") from None
    return "".join(out), decoded


def normalize_path(raw: str) -> str:
    """``//`` collapsed, ``.`` dropped, ``..`` resolved never above ``/``; encoded dot segments rejected."""
    if "?" in raw or "#" in raw:
        raise ValidationError("path must not contain '?' or '#'")
    segments: list[str] = []
    parts = raw.split("/")
    trailing = False
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part in ("", "."):
            trailing = last and index > 0
            continue
        if part == "..":
            if segments:
                segments.pop()
            trailing = last
            continue
        canonical, decoded = _canonical_segment(part)
        if decoded in (".", ".."):
            raise ValidationError("path segments must not decode to '.' or '..'")
        segments.append(canonical)
        trailing = False
    if not segments:
        return "/"
    return "/" + "/".join(segments) + ("/" if trailing else "")


def _decode_component(text: str) -> str:
    for i, ch in enumerate(text):
        if ch == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) != 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                raise ValidationError("query has a malformed percent-encoding")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ValidationError("query is not valid percent-encoded UTF-8") from None


def parse_query(raw: str) -> list[tuple[str, str]]:
    """Percent-decoded ``(name, value)`` pairs in order; repeated names kept (G-11.2)."""
    pairs: list[tuple[str, str]] = []
    if not raw:
        return pairs
    for item in raw.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((_decode_component(name), _decode_component(value)))
    return pairs


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Re-encode decoded pairs (RFC 3986: everything but unreserved characters is escaped)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def split_proxy_uri(uri: str) -> tuple[str, str, list[tuple[str, str]]]:
    """``/{alias}/{path}?{query}`` → (raw alias, normalised path, decoded query)."""
    if not isinstance(uri, str) or not uri.startswith("/"):
        raise ValidationError("proxy URI must start with '/{alias}'")
    raw_path, _, raw_query = uri.partition("#")[0].partition("?")
    alias, _, rest = raw_path[1:].partition("/")
    if not alias:
        raise ValidationError("proxy URI has an empty alias")
    return alias, normalize_path("/" + rest), parse_query(raw_query)
