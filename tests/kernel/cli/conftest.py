"""Throwaway distributions for the tests in this folder."""

from tests.fixtures.dists import dists, toy_dist

__all__ = ["dists", "toy_dist"]
