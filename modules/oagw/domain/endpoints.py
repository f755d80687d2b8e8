"""Endpoint pool rules (G-3.2, G-17.1) and target-host selection (G-16.1)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from ..sdk import Endpoint, InvalidTargetHostError, UnknownTargetHostError, ValidationError

SUPPORTED_SCHEMES = frozenset({"https", "http"})
LATER_SCHEMES = frozenset({"wss", "ws", "wt", "grpc", "grpcs"})
STANDARD_PORTS = {"http": 80, "https": 443}
_LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TARGET_HOST_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def is_ipv4_literal(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def looks_like_ipv6(host: str) -> bool:
    return ":" in host or host.startswith("[")


def hostname_error(host: str) -> str | None:
    """Why ``host`` is not an RFC 1123 ASCII hostname, or ``None`` when it is one."""
    if not host:
        return "host must not be empty"
    if not host.isascii():
        return "host must be ASCII (use the punycode form of international names)"
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return "host must be 1-253 characters"
    labels = name.split(".")
    for label in labels:
        if not _LABEL_RE.match(label):
            return f"host label {label!r} must be 1-63 characters of [A-Za-z0-9-], not starting or ending with '-'"
    if labels[-1].isdigit():
        # A numeric last label is either an IPv4 literal or something resolvers may read as one ("2130706433").
        return "host looks numeric but is not a valid IPv4 address"
    return None


def normalize_host(host: str) -> str:
    """The comparable form of a host: lowercased, without the trailing dot."""
    return host.lower().rstrip(".")


def validate_endpoints(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """G-3.2: at least one; http(s) only; no IPv6; all IPv4 or all hostnames; one scheme and one port."""
    if not endpoints:
        raise ValidationError("server.endpoints needs at least one endpoint")
    kinds: set[str] = set()
    for index, ep in enumerate(endpoints):
        where = f"server.endpoints[{index}]"
        scheme = ep.scheme.lower()
        if scheme in LATER_SCHEMES:
            raise ValidationError(f"{where}.scheme {ep.scheme!r} is not supported yet; use https or http")
        if scheme not in SUPPORTED_SCHEMES:
            raise ValidationError(f"{where}.scheme must be 'https' or 'http'")
        if not 1 <= ep.port <= 65535:
            raise ValidationError(f"{where}.port must be within 1..65535")
        if looks_like_ipv6(ep.host):
            raise ValidationError(f"{where}.host: IPv6 literals are not supported")
        if is_ipv4_literal(ep.host):
            kinds.add("ipv4")
            continue
        problem = hostname_error(ep.host)
        if problem is not None:
            raise ValidationError(f"{where}.host: {problem}")
        kinds.add("hostname")
    if len(kinds) > 1:
        raise ValidationError("server.endpoints must be all IPv4 literals or all hostnames")
    if len({ep.scheme.lower() for ep in endpoints}) > 1:
        raise ValidationError("server.endpoints must share one scheme")
    if len({ep.port for ep in endpoints}) > 1:
        raise ValidationError("server.endpoints must share one port")
    return [Endpoint(scheme=ep.scheme.lower(), host=ep.host, port=ep.port) for ep in endpoints]


def endpoints_key(endpoints: Sequence[Endpoint]) -> tuple[tuple[str, str, int], ...]:
    """What counts as "the same endpoints" for alias re-derivation (G-3.4)."""
    return tuple((ep.scheme.lower(), normalize_host(ep.host), ep.port) for ep in endpoints)


def is_standard_port(scheme: str, port: int) -> bool:
    return STANDARD_PORTS.get(scheme.lower()) == port


def authority(endpoint: Endpoint) -> str:
    """``host[:port]``, the port shown only when non-standard: the ``Host`` header and URL authority."""
    host = endpoint.host.rstrip(".")
    return host if is_standard_port(endpoint.scheme, endpoint.port) else f"{host}:{endpoint.port}"


def base_url(endpoint: Endpoint) -> str:
    return f"{endpoint.scheme.lower()}://{authority(endpoint)}"


def check_scheme_allowed(endpoint: Endpoint, *, allow_http_upstream: bool) -> None:
    """G-17.1 / G-12.1 step 13: ``http`` only when the gateway config allows it."""
    if endpoint.scheme.lower() == "http" and not allow_http_upstream:
        raise ValidationError("plain http upstreams are disabled (allow_http_upstream is false)")


def select_target_host(endpoints: Sequence[Endpoint], target_host: str | None) -> Endpoint | None:
    """G-16.1: the endpoint named by ``X-OAGW-Target-Host``; ``None`` when the header is absent."""
    if target_host is None:
        return None
    value = target_host.strip()
    if not _TARGET_HOST_RE.match(value):
        raise InvalidTargetHostError("X-OAGW-Target-Host must match [A-Za-z0-9._-]+")
    wanted = normalize_host(value)
    for ep in endpoints:
        if normalize_host(ep.host) == wanted:
            return ep
    raise UnknownTargetHostError("X-OAGW-Target-Host does not name an endpoint of this upstream")
