"""Hypothesis strategies for mock-llm directives and reply text."""

from __future__ import annotations

from hypothesis import strategies as st

# Directive lists that must parse, with the field values they set.
_valid = st.one_of(
    st.integers(0, 1_000_000).map(lambda n: (f"lorem={n}", {"lorem": n})),
    st.integers(0, 5000).map(lambda n: (f"latency={n}", {"latency": float(n)})),
    st.integers(0, 5000).map(lambda n: (f"ttft={n}", {"ttft": float(n)})),
    st.integers(400, 599).map(lambda n: (f"error={n}", {"error": n})),
    st.integers(0, 100).map(lambda n: (f"fail_after={n}", {"fail_after": n})),
    st.integers(0, 100).map(lambda n: (f"drop_after={n}", {"drop_after": n})),
    st.integers(0, 100).map(lambda n: (f"think={n}", {"think": n})),
    st.sampled_from(["hang", "no_usage", "malformed", "non_sse", "no_done"]).map(lambda f: (f, {f: True})),
    st.just(("slow", {"latency": 100.0})),
    st.just(("echo", {"lorem": None})),
    st.just(("tools=none", {"tools": ()})),
)
directive_lists = st.lists(_valid, min_size=1, max_size=6)

# Words and the whitespace between them, without anything that looks like a directive block.
words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Zs", "Cc", "Zl", "Zp"), exclude_characters="[]"),
    min_size=1,
    max_size=8,
)
separators = st.sampled_from([" ", "  ", "\n", "\t", " \n "])
texts = st.lists(st.tuples(words, separators), max_size=12).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)

unknown_names = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)
