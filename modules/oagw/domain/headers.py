"""Header filtering (G-13.1, G-13.4), header rules (G-13.2, G-13.3) and framing checks (G-12.1 step 2, G-17.6).

All functions are pure over lists of ``(name, value)`` pairs; output names are lowercased.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..sdk import (
    HeadersConfig,
    PayloadTooLargeError,
    RequestHeaderRules,
    ResponseHeaderRules,
    ValidationError,
)

HeaderList = list[tuple[str, str]]

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer", "upgrade"}
)
FRAMING = frozenset({"content-length", "transfer-encoding"})
CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
ALWAYS_REMOVED_REQUEST = HOP_BY_HOP | FRAMING | CREDENTIALS | {"host"}
DEFAULT_PASSTHROUGH = frozenset({"content-type", "accept"})
OAGW_PREFIX = "x-oagw-"
TARGET_HOST_HEADER = "x-oagw-target-host"
FORBIDDEN_RULE_NAMES = HOP_BY_HOP | {
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "transfer-encoding",
    "content-length",
}
_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def connection_named(headers: Iterable[tuple[str, str]]) -> set[str]:
    """Header names listed in ``Connection`` values: hop-by-hop for this message only."""
    names: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            names.update(token.strip().lower() for token in value.split(",") if token.strip())
    return names


def first_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    lname = name.lower()
    return next((v for k, v in headers if k.lower() == lname), None)


def filter_request_headers(
    headers: Iterable[tuple[str, str]],
    passthrough: str = "none",
    allowlist: Iterable[str] = (),
) -> HeaderList:
    """G-13.1: keep what the passthrough mode allows, minus credentials, framing, hop-by-hop and ``x-oagw-*``."""
    items = [(k.lower(), v) for k, v in headers]
    dropped = ALWAYS_REMOVED_REQUEST | connection_named(items)
    if passthrough == "all":
        allowed: frozenset[str] | None = None
    elif passthrough == "allowlist":
        allowed = DEFAULT_PASSTHROUGH | {a.lower() for a in allowlist}
    elif passthrough == "none":
        allowed = DEFAULT_PASSTHROUGH
    else:
        raise ValueError(f"unknown passthrough mode {passthrough!r}")
    return [
        (k, v)
        for k, v in items
        if k not in dropped and not k.startswith(OAGW_PREFIX) and (allowed is None or k in allowed)
    ]


def filter_response_headers(headers: Iterable[tuple[str, str]]) -> HeaderList:
    """G-13.4: drop hop-by-hop, Connection-named, ``x-oagw-*``, ``set-cookie``, ``transfer-encoding`` (the
    response is re-framed); keep ``content-encoding`` and ``content-length``."""
    items = [(k.lower(), v) for k, v in headers]
    dropped = HOP_BY_HOP | {"set-cookie", "transfer-encoding"} | connection_named(items)
    return [(k, v) for k, v in items if k not in dropped and not k.startswith(OAGW_PREFIX)]


def apply_header_rules(
    headers: Iterable[tuple[str, str]], rules: RequestHeaderRules | ResponseHeaderRules | None
) -> HeaderList:
    """G-12.1 step 10: remove, then set (replacing every occurrence), then add (appending)."""
    items = [(k.lower(), v) for k, v in headers]
    if rules is None:
        return items
    removed = {name.lower() for name in rules.remove} | {name.lower() for name in rules.set}
    out = [(k, v) for k, v in items if k not in removed]
    out.extend((k.lower(), v) for k, v in rules.set.items())
    out.extend((k.lower(), v) for k, v in rules.add.items())
    return out


def _check_name(where: str, name: str, *, forbid: bool) -> str:
    lname = name.lower()
    if not _TOKEN_RE.match(name):
        raise ValidationError(f"{where}: {name!r} is not a valid header name")
    if forbid and (lname in FORBIDDEN_RULE_NAMES or lname.startswith(OAGW_PREFIX)):
        raise ValidationError(
            f"{where}: header {lname!r} cannot be set by rules (credentials belong in credstore; hop-by-hop and "
            "x-oagw-* headers are reserved)"
        )
    return lname


def _check_value(where: str, value: str) -> str:
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValidationError(f"{where}: header values must not contain CR, LF or NUL")
    return value


def _rules_parts(
    where: str, set_: dict[str, str], add: dict[str, str], remove: Sequence[str]
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    new_set = {
        _check_name(f"{where}.set", k, forbid=True): _check_value(f"{where}.set", v) for k, v in set_.items()
    }
    new_add = {
        _check_name(f"{where}.add", k, forbid=True): _check_value(f"{where}.add", v) for k, v in add.items()
    }
    new_remove = [_check_name(f"{where}.remove", k, forbid=False) for k in remove]
    return new_set, new_add, new_remove


def validate_headers_config(config: HeadersConfig | None) -> HeadersConfig | None:
    """G-13.2/G-13.3: lowercase rule names; reject credential, ``host``, hop-by-hop and ``x-oagw-*`` in set/add."""
    if config is None:
        return None
    request = config.request
    if request is not None:
        s, a, r = _rules_parts("headers.request", request.set, request.add, request.remove)
        allow = [
            _check_name("headers.request.passthrough_allowlist", n, forbid=False)
            for n in request.passthrough_allowlist
        ]
        if request.passthrough != "allowlist" and allow:
            raise ValidationError("headers.request.passthrough_allowlist needs passthrough: allowlist")
        request = RequestHeaderRules(
            set=s, add=a, remove=r, passthrough=request.passthrough, passthrough_allowlist=allow
        )
    response = config.response
    if response is not None:
        s, a, r = _rules_parts("headers.response", response.set, response.add, response.remove)
        response = ResponseHeaderRules(set=s, add=a, remove=r)
    return HeadersConfig(request=request, response=response)


def check_request_framing(
    headers: Iterable[tuple[str, str]], *, max_body_size: int | None = None
) -> int | None:
    """G-12.1 step 2 / G-17.6: at most one ``Content-Type``; ``Transfer-Encoding`` absent or ``chunked``;
    ``Content-Length`` a single non-negative integer within the limit (→ 413). Returns the declared length."""
    items = [(k.lower(), v) for k, v in headers]
    content_types = [v for k, v in items if k == "content-type"]
    if len(content_types) > 1 or any("," in v for v in content_types):
        raise ValidationError("at most one Content-Type is allowed")
    encodings = [t.strip().lower() for k, v in items if k == "transfer-encoding" for t in v.split(",")]
    if any(t != "chunked" for t in encodings) or len(encodings) > 1:
        raise ValidationError("Transfer-Encoding may only be 'chunked'")
    lengths = {v.strip() for k, v in items if k == "content-length"}
    if not lengths:
        return None
    if len(lengths) > 1:
        raise ValidationError("conflicting Content-Length values")
    (raw,) = lengths
    if not raw.isascii() or not raw.isdigit():
        raise ValidationError("Content-Length must be a non-negative integer")
    if encodings:
        raise ValidationError("Content-Length and Transfer-Encoding must not both be sent")
    length = int(raw)
    if max_body_size is not None and length > max_body_size:
        raise PayloadTooLargeError(f"body exceeds {max_body_size} bytes")
    return length
