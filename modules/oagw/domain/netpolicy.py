"""Network policy (G-17.2, G-17.4): classify addresses and decide whether a target may be reached.

Pure over ``ipaddress`` objects; the engine calls it for IP-literal endpoints and from its DNS resolver.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from enum import StrEnum

import msgspec

from ..sdk import TargetBlockedError, ValidationError
from .endpoints import hostname_error, normalize_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressClass(StrEnum):
    PUBLIC = "public"
    METADATA = "metadata"
    UNSPECIFIED = "unspecified"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link_local"
    MULTICAST = "multicast"
    BROADCAST = "broadcast"
    RESERVED = "reserved"


METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

_V4: list[tuple[ipaddress.IPv4Network, AddressClass]] = [
    (ipaddress.IPv4Network("0.0.0.0/8"), AddressClass.UNSPECIFIED),
    (ipaddress.IPv4Network("127.0.0.0/8"), AddressClass.LOOPBACK),
    (ipaddress.IPv4Network("10.0.0.0/8"), AddressClass.PRIVATE),
    (ipaddress.IPv4Network("172.16.0.0/12"), AddressClass.PRIVATE),
    (ipaddress.IPv4Network("192.168.0.0/16"), AddressClass.PRIVATE),
    (ipaddress.IPv4Network("100.64.0.0/10"), AddressClass.PRIVATE),
    (ipaddress.IPv4Network("169.254.0.0/16"), AddressClass.LINK_LOCAL),
    (ipaddress.IPv4Network("224.0.0.0/4"), AddressClass.MULTICAST),
    (ipaddress.IPv4Network("255.255.255.255/32"), AddressClass.BROADCAST),
    (ipaddress.IPv4Network("240.0.0.0/4"), AddressClass.RESERVED),
]
_V6: list[tuple[ipaddress.IPv6Network, AddressClass]] = [
    (ipaddress.IPv6Network("::/128"), AddressClass.UNSPECIFIED),
    (ipaddress.IPv6Network("::1/128"), AddressClass.LOOPBACK),
    (ipaddress.IPv6Network("fc00::/7"), AddressClass.PRIVATE),
    (ipaddress.IPv6Network("fec0::/10"), AddressClass.PRIVATE),
    (ipaddress.IPv6Network("fe80::/10"), AddressClass.LINK_LOCAL),
    (ipaddress.IPv6Network("ff00::/8"), AddressClass.MULTICAST),
]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """IPv4 carried inside an IPv6 address (mapped, NAT64, 6to4): such forms reach the IPv4 host."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr.sixtofour


def classify_address(addr: IPAddress | str) -> AddressClass:
    ip = ipaddress.ip_address(addr) if isinstance(addr, str) else addr
    if ip in METADATA_ADDRESSES:
        return AddressClass.METADATA
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(ip.compressed.split("%", 1)[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = classify_address(embedded)
            if inner is not AddressClass.PUBLIC or ip.ipv4_mapped is not None:
                return inner
        for net6, cls6 in _V6:
            if ip in net6:
                return cls6
    else:
        for net4, cls4 in _V4:
            if ip in net4:
                return cls4
    return AddressClass.PUBLIC if ip.is_global else AddressClass.RESERVED


def is_blocked(addr: IPAddress | str) -> bool:
    return classify_address(addr) is not AddressClass.PUBLIC


def is_metadata(addr: IPAddress | str) -> bool:
    return classify_address(addr) is AddressClass.METADATA


class _NetEntry(msgspec.Struct, frozen=True):
    network: ipaddress.IPv4Network | ipaddress.IPv6Network


class _HostEntry(msgspec.Struct, frozen=True):
    host: str
    port: int | None


def _parse_port(text: str, entry: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValidationError(f"private_network_allowlist entry {entry!r} has an invalid port")
    return int(text)


def _parse_entry(entry: str) -> _NetEntry | _HostEntry:
    text = entry.strip()
    if not text:
        raise ValidationError("private_network_allowlist entries must not be empty")
    try:
        return _NetEntry(ipaddress.ip_network(text, strict=False))
    except ValueError:
        pass
    if text.startswith("["):  # [v6]:port
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValidationError(f"private_network_allowlist entry {entry!r} is malformed")
        ipaddress.IPv6Address(host)
        return _HostEntry(host.lower(), _parse_port(rest[1:], entry))
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port_value = text, None
    else:
        port_value = _parse_port(port, entry)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        problem = hostname_error(host)
        if problem is not None:
            raise ValidationError(f"private_network_allowlist entry {entry!r}: {problem}") from None
    return _HostEntry(normalize_host(host), port_value)


class NetworkAllowlist:
    """G-17.4 (a): IP/CIDR entries match resolved addresses; ``host:port`` / ``ip:port`` entries match the
    configured endpoint (a listed port must match). Metadata addresses are never allowed."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        parsed = [_parse_entry(e) for e in entries]
        self._nets = [p.network for p in parsed if isinstance(p, _NetEntry)]
        self._hosts = [p for p in parsed if isinstance(p, _HostEntry)]

    def __bool__(self) -> bool:
        return bool(self._nets or self._hosts)

    def matches_endpoint(self, host: str, port: int) -> bool:
        wanted = normalize_host(host).strip("[]")
        return any(e.host == wanted and e.port in (None, port) for e in self._hosts)

    def matches_address(self, addr: IPAddress) -> bool:
        return any(addr.version == net.version and addr in net for net in self._nets)


class NetworkPolicy:
    def __init__(self, allowlist: NetworkAllowlist | Iterable[str] = ()) -> None:
        self.allowlist = allowlist if isinstance(allowlist, NetworkAllowlist) else NetworkAllowlist(allowlist)

    def permits(
        self, host: str, port: int, addr: IPAddress | str, *, allow_private_network: bool = False
    ) -> bool:
        ip = ipaddress.ip_address(addr) if isinstance(addr, str) else addr
        cls = classify_address(ip)
        if cls is AddressClass.METADATA:
            return False
        if cls is AddressClass.PUBLIC or allow_private_network:
            return True
        return self.allowlist.matches_endpoint(host, port) or self.allowlist.matches_address(ip)

    def check(
        self,
        host: str,
        port: int,
        addresses: Iterable[IPAddress | str],
        *,
        allow_private_network: bool = False,
    ) -> None:
        """Every resolved address must pass (G-17.3); refusal → 403 ``routing.target_blocked`` without the address."""
        seen = False
        for addr in addresses:
            seen = True
            if not self.permits(host, port, addr, allow_private_network=allow_private_network):
                raise TargetBlockedError()
        if not seen:
            raise TargetBlockedError()
