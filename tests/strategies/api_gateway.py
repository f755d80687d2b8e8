"""Hypothesis strategies for the api-gateway's pure domain (prefixes, scope globs, token buckets)."""

from __future__ import annotations

from hypothesis import strategies as st

SEGMENT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

# A path segment a prefix may hold: allowed characters, but never the "." / ".." segments.
segments = st.text(SEGMENT_CHARS, min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))
# A URL path segment without glob characters.
plain_segments = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
slashes = st.integers(min_value=1, max_value=3).map(lambda n: "/" * n)
# (seconds since the previous request) for a sequence of requests against one bucket
gaps = st.lists(st.floats(min_value=0, max_value=3, allow_nan=False), min_size=1, max_size=60)
