"""K-4.5: ``FABRIKIT__A__B=value`` overrides."""

from __future__ import annotations

import pytest

from fabrikit.kernel._config import ConfigError, apply_overrides


def test_matches_existing_keys_with_dash_equal_underscore() -> None:
    raw = {"modules": {"api-gateway": {"config": {"bind-addr": "127.0.0.1:8080"}}}}
    tree, applied = apply_overrides(
        raw, {"FABRIKIT__MODULES__API_GATEWAY__CONFIG__BIND_ADDR": "'0.0.0.0:80'"}
    )
    assert tree == {"modules": {"api-gateway": {"config": {"bind-addr": "0.0.0.0:80"}}}}
    assert applied == [("modules", "api-gateway", "config", "bind-addr")]
    assert raw["modules"]["api-gateway"]["config"]["bind-addr"] == "127.0.0.1:8080"


def test_new_module_name_gets_dashes_but_deeper_keys_keep_underscores() -> None:
    tree, _ = apply_overrides({}, {"FABRIKIT__MODULES__API_GATEWAY__CONFIG__BIND_ADDR": "0.0.0.0:80"})
    assert tree == {"modules": {"api-gateway": {"config": {"bind_addr": "0.0.0.0:80"}}}}


def test_new_plugin_name_gets_dashes() -> None:
    tree, _ = apply_overrides({"plugins": None}, {"FABRIKIT__PLUGINS__STATIC_AUTHN__ENABLED": "false"})
    assert tree == {"plugins": {"static-authn": {"enabled": False}}}


def test_null_module_entry_becomes_a_mapping() -> None:
    tree, _ = apply_overrides(
        {"modules": {"mini-chat": None}}, {"FABRIKIT__MODULES__MINI_CHAT__CONFIG__X": "1"}
    )
    assert tree == {"modules": {"mini-chat": {"config": {"x": 1}}}}


def test_numeric_segment_indexes_a_list() -> None:
    raw = {"modules": {"oagw": {"config": {"upstreams": [{"host": "a"}, {"host": "b"}]}}}}
    tree, applied = apply_overrides(raw, {"FABRIKIT__MODULES__OAGW__CONFIG__UPSTREAMS__1__HOST": "c"})
    assert tree["modules"]["oagw"]["config"]["upstreams"] == [{"host": "a"}, {"host": "c"}]
    assert applied == [("modules", "oagw", "config", "upstreams", 1, "host")]


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("8080", 8080), ("[a, b]", ["a", "b"]), ("'text'", "text"), ("{x: 1}", {"x": 1})],
)
def test_value_is_one_yaml_flow_value(text: str, value: object) -> None:
    tree, _ = apply_overrides({}, {"FABRIKIT__LOGGING__LEVEL": text})
    assert tree == {"logging": {"level": value}}


def test_value_is_not_expanded() -> None:
    tree, _ = apply_overrides({}, {"FABRIKIT__SERVER__NAME": "${HOME}", "HOME": "/root"})
    assert tree == {"server": {"name": "${HOME}"}}


def test_segments_are_lowercased_and_other_variables_ignored() -> None:
    env = {"FABRIKIT__SERVER__NAME": "x", "FABRIKIT_CONFIG": "f.yaml", "OTHER__SERVER__NAME": "y"}
    tree, _ = apply_overrides({"server": {"name": "a"}}, env)
    assert tree == {"server": {"name": "x"}}


def test_deeper_override_applies_after_shallower_one() -> None:
    env = {"FABRIKIT__LOGGING__LEVELS__UVICORN": "debug", "FABRIKIT__LOGGING": "{level: info}"}
    tree, _ = apply_overrides({}, env)
    assert tree == {"logging": {"level": "info", "levels": {"uvicorn": "debug"}}}


def test_errors_are_collected_and_never_echo_the_value() -> None:
    env = {
        "FABRIKIT__A__5": "1",
        "FABRIKIT__B__C": "1",
        "FABRIKIT__C": "key: s3cr3t",
        "FABRIKIT__D": "[s3cr3t",
        "FABRIKIT__X____Y": "1",
    }
    with pytest.raises(ConfigError) as err:
        apply_overrides({"a": [1], "b": 3}, env)
    assert err.value.messages[:2] == [
        "FABRIKIT__C: expected one YAML flow value, e.g. true, 8080, [a, b] or 'text'",
        "FABRIKIT__D: invalid YAML at line 1, column 8: expected ',' or ']', but got '<stream end>'",
    ]
    assert "FABRIKIT__A__5: a is a list of 1 items; '5' is not a valid index" in err.value.messages
    assert "FABRIKIT__B__C: cannot set 'c' inside b: it is not a mapping" in err.value.messages
    assert any(m.startswith("FABRIKIT__X____Y: empty key segment") for m in err.value.messages)
    assert "s3cr3t" not in str(err.value)
