"""Alias derivation and validation (G-3.3) and re-derivation on update (G-3.4)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from ..sdk import Endpoint, ValidationError
from .endpoints import endpoints_key, is_ipv4_literal, is_standard_port, normalize_host

_ALIAS_RE = re.compile(r"^[A-Za-z0-9.:_-]{1,253}$")


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The list bundled with the package; nothing is fetched at run time.
    return PublicSuffixList()


def normalize_alias(alias: str) -> str:
    """Stored/compared form: lowercased, trailing dots of the host part removed (``Host.:8443`` → ``host:8443``)."""
    value = alias.strip().lower()
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit():
        return f"{host.rstrip('.')}:{port}"
    return value.rstrip(".")


def validate_explicit_alias(alias: str) -> str:
    """1–253 characters of ``[A-Za-z0-9.:_-]``, at least one alphanumeric, not ``.`` or ``..``; → normalised."""
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
        raise ValidationError("alias must be 1-253 characters of [A-Za-z0-9.:_-]")
    if alias in (".", "..") or not any(ch.isalnum() for ch in alias):
        raise ValidationError("alias needs at least one letter or digit and must not be '.' or '..'")
    normalized = normalize_alias(alias)
    if not normalized or normalized.startswith(":"):
        raise ValidationError("alias must not be empty once trailing dots are removed")
    return normalized


def _common_label_suffix(hosts: Sequence[str]) -> list[str]:
    split = [h.split(".") for h in hosts]
    common: list[str] = []
    for labels in zip(*(reversed(s) for s in split), strict=False):
        if len(set(labels)) != 1:
            break
        common.append(labels[0])
    return list(reversed(common))


def derive_alias(endpoints: Sequence[Endpoint]) -> str | None:
    """The derived alias, or ``None`` when it cannot be derived (IPv4 hosts, no registrable common suffix)."""
    if not endpoints or any(is_ipv4_literal(ep.host) for ep in endpoints):
        return None
    hosts = sorted({normalize_host(ep.host) for ep in endpoints})
    if len(hosts) == 1:
        base = hosts[0]
    else:
        labels = _common_label_suffix(hosts)
        if len(labels) < 2:
            return None
        base = ".".join(labels)
        # The suffix must be a registrable domain or below one: a bare public suffix ("co.uk") is shared by strangers.
        if _psl().privatesuffix(base) is None:
            return None
    ep = endpoints[0]
    return base if is_standard_port(ep.scheme, ep.port) else f"{base}:{ep.port}"


def alias_for_create(endpoints: Sequence[Endpoint], supplied: str | None) -> str:
    """G-3.3: derived when possible (a supplied alias must then equal it), else the caller must supply one."""
    derived = derive_alias(endpoints)
    if derived is None:
        if supplied is None:
            raise ValidationError(
                "alias cannot be derived from these endpoints (IPv4 or no common domain); supply one"
            )
        return validate_explicit_alias(supplied)
    if supplied is not None and validate_explicit_alias(supplied) != derived:
        raise ValidationError(f"alias must equal the derived alias {derived!r}")
    return derived


def alias_for_update(
    old_endpoints: Sequence[Endpoint],
    old_alias: str,
    new_endpoints: Sequence[Endpoint],
    supplied: str | None,
) -> str:
    """G-3.4: changed endpoints re-derive; derivable → non-derivable needs an explicit alias; non-derivable →
    non-derivable (e.g. IPv4 → IPv4) keeps the old alias unless one is given; with unchanged endpoints only a
    non-derivable alias may change."""
    derived = derive_alias(new_endpoints)
    if derived is not None:
        if supplied is not None and validate_explicit_alias(supplied) != derived:
            raise ValidationError(f"alias must equal the derived alias {derived!r}")
        return derived
    if supplied is not None:
        return validate_explicit_alias(supplied)
    changed = endpoints_key(old_endpoints) != endpoints_key(new_endpoints)
    if changed and derive_alias(old_endpoints) is not None:
        raise ValidationError("the new endpoints do not yield an alias; supply one")
    return old_alias
