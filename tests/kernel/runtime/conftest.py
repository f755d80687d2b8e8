"""Throwaway distributions for the tests in this folder."""

import gc
from collections.abc import Iterator

import pytest

from tests.fixtures.dists import dists, toy_dist

__all__ = ["dists", "toy_dist"]


@pytest.fixture(autouse=True)
def _heap_unfrozen() -> Iterator[None]:
    """``Runtime.run`` freezes the start-up heap, as in a server process; in the test process that must not
    outlive the test."""
    yield
    gc.unfreeze()
