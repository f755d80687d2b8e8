"""Hypothesis strategies for redaction (K-4.8, K-17.2): text and event dicts with credentials inside."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# A secret distinctive enough never to appear in a line by chance; the characters every pattern consumes.
secrets_ = st.from_regex(r"Zq[A-Za-z0-9]{6,14}", fullmatch=True)

# Filler around a credential; the separating space is added by the embedding strategies.
filler = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=24)

SENSITIVE_KEYS = ("password", "api_key", "apikey", "Authorization", "bearer_token", "client_secret", "cookie")
PLAIN_KEYS = ("path", "method", "user_agent", "note", "detail", "status_text")
QUERY_KEYS = ("token", "api_key", "password", "secret", "x_credential")


@st.composite
def text_with_secret(draw: st.DrawFn, secret: str) -> str:
    """Random text that carries ``secret`` as a bearer/basic token, URL password or secret query value."""
    shape = draw(st.sampled_from(("bearer", "Bearer", "Basic", "url", "query")))
    if shape in ("bearer", "Bearer", "Basic"):
        inner = f"{shape} {secret}"
    elif shape == "url":
        scheme = draw(st.sampled_from(("https", "postgres", "redis", "amqp+ssl")))
        user = draw(st.from_regex(r"[a-z]{0,8}", fullmatch=True))
        inner = f"{scheme}://{user}:{secret}@host.example/db"
    else:
        key = draw(st.sampled_from(QUERY_KEYS))
        sep = draw(st.sampled_from(("?", "&")))
        inner = f"/v1/items{sep}{key}={secret}"
    return f"{draw(filler)} {inner} {draw(filler)}"


@st.composite
def nested_with_secret(draw: st.DrawFn, secret: str, depth: int = 3) -> Any:
    """A value that holds ``secret`` somewhere: in text, under a sensitive key, or deeper in dicts/lists."""
    if depth == 0:
        return draw(text_with_secret(secret))
    kind = draw(st.sampled_from(("text", "sensitive_key", "dict", "list", "pair")))
    if kind == "text":
        return draw(text_with_secret(secret))
    if kind == "sensitive_key":
        return {draw(st.sampled_from(SENSITIVE_KEYS)): secret, draw(st.sampled_from(PLAIN_KEYS)): "fine"}
    if kind == "pair":
        return [draw(st.sampled_from(SENSITIVE_KEYS)), secret]  # a (name, value) header pair
    inner = draw(nested_with_secret(secret, depth - 1))
    if kind == "dict":
        return {draw(st.sampled_from(PLAIN_KEYS)): inner, "n": draw(st.integers())}
    return [draw(st.integers()), inner]


# Arbitrary text biased towards the literals and shapes the patterns look for.
tricky_text = st.lists(
    st.one_of(
        filler,
        st.sampled_from(
            ("Bearer ", "bearer ", "Basic ", "BEARER ", "basic ", "://", "=", "?", "&", "@", ":", "/", " ")
        ),
        st.sampled_from(("token", "api_key", "password", "https", "user", "abcdefgh", "xyz=", "a+b")),
        # whole credentials, so that every pattern matches often
        st.sampled_from(
            (
                "Basic dXNlcjpwYXNz",
                "Bearer tok-abcdef",
                "bearer a.b.c_d~e",
                "https://u:pw123456@h/x",
                "redis://:pw@cache",
                "?token=abc123",
                "&client_secret=s3",
            )
        ),
    ),
    max_size=12,
).map("".join)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), tricky_text)
event_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(SENSITIVE_KEYS + PLAIN_KEYS), inner, max_size=3),
    ),
    max_leaves=8,
)
event_dicts = st.dictionaries(
    st.sampled_from(SENSITIVE_KEYS + PLAIN_KEYS + ("event", "max_tokens", "token_budget")),
    event_values,
    max_size=6,
)
