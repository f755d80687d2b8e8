"""Path and query handling on the proxy path (G-11.2, G-4.5, G-12.1 step 5): normalisation lives in the SDK
(``ProxyRequest.from_uri`` needs it); this adds segment-aware prefixes, suffix mode, query allowlist and URLs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..sdk import (
    Endpoint,
    HttpMatch,
    ValidationError,
    encode_query,
    normalize_path,
    parse_query,
    split_proxy_uri,
)
from .endpoints import base_url

__all__ = [
    "build_url",
    "check_query_allowlist",
    "check_suffix_mode",
    "encode_query",
    "normalize_path",
    "parse_query",
    "path_matches_prefix",
    "split_proxy_uri",
    "strip_trailing_slash",
]


def strip_trailing_slash(path: str) -> str:
    return path.rstrip("/") or "/"


def path_matches_prefix(prefix: str, path: str) -> bool:
    """Segment-aware prefix test (G-4.4): ``/v1`` matches ``/v1`` and ``/v1/x``, never ``/v10``."""
    base = strip_trailing_slash(prefix)
    if base == "/":
        return True
    return path == base or path.startswith(base + "/")


def check_suffix_mode(match: HttpMatch, path: str) -> None:
    """G-4.5: in ``disabled`` mode the path must equal the route path (a trailing slash aside), else 400."""
    if match.path_suffix_mode == "disabled" and strip_trailing_slash(path) != strip_trailing_slash(
        match.path
    ):
        raise ValidationError("this route does not accept a path beyond its own")


def check_query_allowlist(match: HttpMatch, query: Sequence[tuple[str, str]]) -> None:
    """G-12.1 step 5: every query name must be listed (an empty allowlist admits no query)."""
    allowed = set(match.query_allowlist)
    for name, _ in query:
        if name not in allowed:
            raise ValidationError(f"query parameter {name[:64]!r} is not allowed by this route")


def build_url(endpoint: Endpoint, path: str, query: Iterable[tuple[str, str]] = ()) -> str:
    """G-4.5: ``{scheme}://{host}[:port]`` + path + re-encoded query."""
    encoded = encode_query(query)
    return base_url(endpoint) + path + (f"?{encoded}" if encoded else "")
