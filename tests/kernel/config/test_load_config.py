"""K-4.1: layers — file / $FABRIKIT_CONFIG / default profile, expansion, overrides, validation."""

from __future__ import annotations

import pathlib

import pytest

from fabrikit.kernel._config import ConfigError, load_config

CONFIG = """\
server:
  name: ${SERVER_NAME:-from-file}
modules:
  oagw:
    config:
      upstreams:
        - api_key: ${OPENAI_API_KEY}
  mini-chat:
"""


@pytest.fixture
def config_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "fabrikit.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_file_is_expanded_and_validated(config_file: pathlib.Path) -> None:
    cfg = load_config(config_file, env={"OPENAI_API_KEY": "sk-1"})
    assert cfg.server.name == "from-file"
    assert cfg.module_config("oagw") == {"upstreams": [{"api_key": "sk-1"}]}
    assert set(cfg.modules) == {"oagw", "mini-chat"}
    assert cfg.source == str(config_file)
    assert cfg.raw["modules"]["oagw"]["config"]["upstreams"][0]["api_key"] == "sk-1"


def test_unset_variable_is_reported_with_its_path(config_file: pathlib.Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(config_file, env={})
    assert err.value.messages == [
        "modules.oagw.config.upstreams[0].api_key: environment variable OPENAI_API_KEY is not set"
    ]


def test_override_of_the_unset_value_silences_its_error(config_file: pathlib.Path) -> None:
    env = {
        "FABRIKIT__MODULES__OAGW__CONFIG__UPSTREAMS__0__API_KEY": "sk-2",
        "FABRIKIT__SERVER__NAME": "'${X}'",
    }
    cfg = load_config(config_file, env=env)
    assert cfg.module_config("oagw") == {"upstreams": [{"api_key": "sk-2"}]}
    assert cfg.server.name == "${X}"  # override values are not expanded


def test_fabrikit_config_variable_names_the_file(config_file: pathlib.Path) -> None:
    cfg = load_config(None, env={"FABRIKIT_CONFIG": str(config_file), "OPENAI_API_KEY": "k"})
    assert cfg.source == str(config_file)


def test_explicit_path_beats_fabrikit_config(config_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("server: {name: other}\n", encoding="utf-8")
    cfg = load_config(other, env={"FABRIKIT_CONFIG": str(config_file)})
    assert cfg.server.name == "other"


def test_default_profile_is_used_without_a_file_and_is_not_modified() -> None:
    profile = {"server": {"name": "${N:-dev}"}, "modules": {"mock-llm": None}}
    cfg = load_config(
        None, env={"FABRIKIT__MODULES__MOCK_LLM__CONFIG__PORT": "9000"}, default_profile=profile
    )
    assert cfg.server.name == "dev"
    assert cfg.module_config("mock-llm") == {"port": 9000}
    assert cfg.source == "<default profile>"
    assert profile == {"server": {"name": "${N:-dev}"}, "modules": {"mock-llm": None}}


def test_no_file_and_no_profile_gives_defaults() -> None:
    cfg = load_config(None, env={})
    assert cfg.modules == {}
    assert cfg.source == "<defaults>"


def test_errors_of_every_layer_are_reported_together(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "modulez: {}\nserver:\n  name: ${NAME}\nruntime:\n  shutdown_budget: ${BUDGET}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, env={"FABRIKIT__LOGGING__LEVEL": "[oops", "BUDGET": "soon"})
    assert err.value.messages == [
        "server.name: environment variable NAME is not set",
        "FABRIKIT__LOGGING__LEVEL: invalid YAML at line 1, column 6: expected ',' or ']', but got '<stream end>'",
        "unknown top-level key 'modulez' (did you mean 'modules'?)",
        "runtime.shutdown_budget: Expected a duration (seconds or '<n>ms|s|m|h'), got 'soon'",
    ]


def test_validation_error_caused_by_an_unset_variable_is_not_repeated(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("runtime:\n  shutdown_budget: ${BUDGET}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert err.value.messages == ["runtime.shutdown_budget: environment variable BUDGET is not set"]


def test_expanded_strings_convert_to_numbers(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        "database:\n  servers:\n    pg: {dsn: '${DSN}', port: '${PORT:-5432}'}\n", encoding="utf-8"
    )
    cfg = load_config(path, env={"DSN": "postgresql://u:p@h/d"})
    assert cfg.database.servers["pg"].port == 5432


def test_duplicate_key_in_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("modules:\n  oagw:\nserver: {}\nmodules: {}\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"^duplicate key 'modules' at line 4, column 1 \(first at line 1\)$"
    ):
        load_config(path, env={})
