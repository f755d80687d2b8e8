"""K-15.2: ``partition_for`` — UUID → ``int % n``; str → first 8 bytes of SHA-256, big-endian, ``% n``."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.kernel.outbox import partition_for

counts = st.sampled_from([1, 2, 4, 8, 16, 32, 64])


@given(st.uuids(), counts)
def test_uuid_keys(key: uuid.UUID, n: int) -> None:
    assert partition_for(key, n) == key.int % n


@given(st.text(), counts)
def test_str_keys_are_stable_and_in_range(key: str, n: int) -> None:
    p = partition_for(key, n)
    assert 0 <= p < n
    assert p == int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n


def test_known_values() -> None:
    # sha256("tenant-a")[:8] as an unsigned big-endian integer, computed once by hand.
    digest = hashlib.sha256(b"tenant-a").hexdigest()[:16]
    assert partition_for("tenant-a", 64) == int(digest, 16) % 64
    assert partition_for(uuid.UUID(int=130), 64) == 2


@pytest.mark.parametrize("n", [0, -4, True])
def test_bad_counts(n: int) -> None:
    with pytest.raises(ValueError, match="partition count"):
        partition_for("k", n)


def test_bad_key_type() -> None:
    with pytest.raises(TypeError):
        partition_for(12, 4)  # type: ignore[arg-type]
