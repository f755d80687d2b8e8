"""Hypothesis strategies for configuration (K-4): variable names, literal text, durations and sizes."""

from __future__ import annotations

from hypothesis import strategies as st

env_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)

# Text that holds no `$` at all, so it can never start a reference or an escape.
literal_text = st.text(st.characters(codec="utf-8", exclude_characters="$"), max_size=30)

# Values an environment can hold (no NUL, no surrogates), including `${...}` look-alikes.
env_values = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)

duration_units = st.sampled_from([("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)])

size_units = st.sampled_from(
    [
        ("B", 1),
        ("KB", 1000),
        ("MB", 1000**2),
        ("GB", 1000**3),
        ("KiB", 1024),
        ("MiB", 1024**2),
        ("GiB", 1024**3),
        ("TiB", 1024**4),
    ]
)
