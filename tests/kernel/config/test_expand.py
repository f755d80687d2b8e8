"""K-4.4: ``${NAME}`` / ``${NAME:-default}`` expansion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabrikit.kernel._config import ConfigError, expand_env, expand_string
from tests.strategies.config import env_names, env_values, literal_text


def expand(text: str, **env: str) -> str:
    result, problems = expand_string(text, env)
    assert problems == []
    return result


def test_reference_is_replaced() -> None:
    assert expand("http://${HOST}:${PORT}/v1", HOST="mock", PORT="8081") == "http://mock:8081/v1"


def test_default_applies_when_unset() -> None:
    assert expand("${LEVEL:-info}") == "info"


def test_default_may_contain_colons_and_slashes() -> None:
    assert expand("${URL:-http://127.0.0.1:8081/v1}") == "http://127.0.0.1:8081/v1"


def test_empty_default() -> None:
    assert expand("[${X:-}]") == "[]"


def test_set_but_empty_stays_empty() -> None:
    assert expand("[${X:-fallback}]", X="") == "[]"


def test_set_value_beats_default() -> None:
    assert expand("${X:-fallback}", X="real") == "real"


def test_escape_gives_a_literal_reference() -> None:
    assert expand("$${HOME} and $${X:-y}", HOME="/root") == "${HOME} and ${X:-y}"


def test_lone_dollars_are_kept() -> None:
    assert expand("cost: $5, $$ and $HOME", HOME="/root") == "cost: $5, $$ and $HOME"


def test_one_pass_values_are_not_expanded_again() -> None:
    assert expand("${A}", A="${B}", B="no") == "${B}"


def test_default_is_not_expanded_again() -> None:
    assert expand("${A:-${B}}", B="no") == "${B}"


@pytest.mark.parametrize("text", ["${1ABC}", "${A-B}", "${}", "${A:default}", "${UNCLOSED"])
def test_malformed_references_are_reported(text: str) -> None:
    _, problems = expand_string(text, {"A": "x"})
    assert len(problems) == 1
    assert problems[0].startswith("invalid variable reference '")


def test_unset_variables_are_all_reported_with_their_paths() -> None:
    tree = {
        "modules": {
            "oagw": {
                "config": {"upstreams": [{"api_key": "${OPENAI_API_KEY}"}, {"url": "${A}/${B:-b}/${C}"}]}
            }
        },
        "server": {"name": "${NAME:-fabrikit}"},
    }
    with pytest.raises(ConfigError) as err:
        expand_env(tree, {"A": "a"})
    assert err.value.messages == [
        "modules.oagw.config.upstreams[0].api_key: environment variable OPENAI_API_KEY is not set",
        "modules.oagw.config.upstreams[1].url: environment variable C is not set",
    ]


def test_keys_and_non_strings_are_untouched() -> None:
    tree = {"${KEY}": ["${V}", 3, True, None, {"n": 1.5}]}
    assert expand_env(tree, {"KEY": "k", "V": "v"}) == {"${KEY}": ["v", 3, True, None, {"n": 1.5}]}


def test_input_tree_is_not_modified() -> None:
    tree = {"a": ["${V}"]}
    expand_env(tree, {"V": "v"})
    assert tree == {"a": ["${V}"]}


@given(literal_text)
def test_text_without_dollar_is_unchanged(text: str) -> None:
    assert expand(text) == text


@given(env_names, env_values, literal_text, literal_text)
def test_value_is_inserted_verbatim(name: str, value: str, before: str, after: str) -> None:
    assert expand(before + "${" + name + "}" + after, **{name: value}) == before + value + after


@given(env_names, literal_text.filter(lambda s: "}" not in s))
def test_escaped_reference_survives_literally(name: str, default: str) -> None:
    assert expand("$${" + name + ":-" + default + "}", **{name: "set"}) == "${" + name + ":-" + default + "}"


@given(st.lists(env_names, min_size=1, max_size=5, unique=True))
def test_every_unset_name_is_reported_once_per_reference(names: list[str]) -> None:
    _, problems = expand_string(" ".join("${" + n + "}" for n in names), {})
    assert problems == [f"environment variable {n} is not set" for n in names]
