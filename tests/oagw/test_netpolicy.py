"""Network policy (G-17.2, G-17.4)."""

from __future__ import annotations

import ipaddress

import pytest

from fabrikit.modules.oagw.domain.netpolicy import (
    AddressClass,
    NetworkAllowlist,
    NetworkPolicy,
    classify_address,
    is_blocked,
)
from fabrikit.modules.oagw.sdk import TargetBlockedError, ValidationError

C = AddressClass


@pytest.mark.parametrize(
    ("addr", "cls"),
    [
        ("127.0.0.1", C.LOOPBACK),
        ("127.255.0.9", C.LOOPBACK),
        ("::1", C.LOOPBACK),
        ("10.1.2.3", C.PRIVATE),
        ("172.16.0.1", C.PRIVATE),
        ("172.31.255.255", C.PRIVATE),
        ("192.168.1.1", C.PRIVATE),
        ("100.64.0.1", C.PRIVATE),
        ("fc00::1", C.PRIVATE),
        ("fd12:3456::1", C.PRIVATE),
        ("169.254.1.1", C.LINK_LOCAL),
        ("fe80::1", C.LINK_LOCAL),
        ("0.0.0.0", C.UNSPECIFIED),
        ("0.1.2.3", C.UNSPECIFIED),
        ("::", C.UNSPECIFIED),
        ("224.0.0.1", C.MULTICAST),
        ("239.1.1.1", C.MULTICAST),
        ("ff02::1", C.MULTICAST),
        ("255.255.255.255", C.BROADCAST),
        ("240.0.0.1", C.RESERVED),
        ("192.0.2.1", C.RESERVED),
        ("2001:db8::1", C.RESERVED),
        ("169.254.169.254", C.METADATA),
        ("fd00:ec2::254", C.METADATA),
        ("::ffff:169.254.169.254", C.METADATA),
        ("::ffff:127.0.0.1", C.LOOPBACK),
        ("::ffff:10.0.0.1", C.PRIVATE),
        ("::ffff:8.8.8.8", C.PUBLIC),
        ("64:ff9b::7f00:1", C.LOOPBACK),
        ("2002:7f00:1::", C.LOOPBACK),
        ("8.8.8.8", C.PUBLIC),
        ("172.32.0.1", C.PUBLIC),
        ("100.128.0.1", C.PUBLIC),
        ("2606:4700::1111", C.PUBLIC),
    ],
)
def test_classification(addr: str, cls: AddressClass) -> None:
    assert classify_address(addr) is cls
    assert classify_address(ipaddress.ip_address(addr)) is cls
    assert is_blocked(addr) == (cls is not C.PUBLIC)


def test_allowlist_ip_port_matches_configured_endpoint_only() -> None:
    policy = NetworkPolicy(["127.0.0.1:8000"])
    assert policy.permits("127.0.0.1", 8000, "127.0.0.1")
    assert not policy.permits("127.0.0.1", 8001, "127.0.0.1")
    assert not policy.permits("localhost", 8000, "127.0.0.1")
    assert not policy.permits("127.0.0.2", 8000, "127.0.0.2")
    assert policy.permits("example.com", 443, "93.184.216.34")


def test_allowlist_cidr_matches_resolved_addresses() -> None:
    policy = NetworkPolicy(["10.0.0.0/8", "fd00::/8"])
    assert policy.permits("svc.internal", 443, "10.2.3.4")
    assert policy.permits("svc.internal", 443, "fd00::5")
    assert not policy.permits("svc.internal", 443, "192.168.0.1")


def test_allowlist_host_entries() -> None:
    policy = NetworkPolicy(["mock.local:9000", "db.local", "[::1]:8080"])
    assert policy.permits("MOCK.local.", 9000, "127.0.0.1")
    assert not policy.permits("mock.local", 9001, "127.0.0.1")
    assert policy.permits("db.local", 1, "10.0.0.1")
    assert policy.permits("::1", 8080, "::1")


def test_metadata_always_blocked() -> None:
    policy = NetworkPolicy(["169.254.0.0/16", "169.254.169.254:80"])
    assert not policy.permits("169.254.169.254", 80, "169.254.169.254", allow_private_network=True)
    assert not policy.permits("x", 80, "::ffff:169.254.169.254", allow_private_network=True)
    assert policy.permits("x", 80, "169.254.1.1")


def test_flagged_upstream_passes_private() -> None:
    policy = NetworkPolicy()
    assert not policy.permits("svc", 443, "10.0.0.1")
    assert policy.permits("svc", 443, "10.0.0.1", allow_private_network=True)


def test_check_requires_every_address_to_pass_and_hides_it() -> None:
    policy = NetworkPolicy()
    policy.check("example.com", 443, ["93.184.216.34"])
    with pytest.raises(TargetBlockedError) as err:
        policy.check("example.com", 443, ["93.184.216.34", "127.0.0.1"])
    assert "127.0.0.1" not in err.value.detail
    assert err.value.status == 403
    with pytest.raises(TargetBlockedError):
        policy.check("example.com", 443, [])


@pytest.mark.parametrize("bad", ["", "host:0", "host:99999", "bad_host:80", "[::1]", "-x.com"])
def test_bad_allowlist_entries(bad: str) -> None:
    with pytest.raises((ValidationError, ValueError)):
        NetworkAllowlist([bad])
