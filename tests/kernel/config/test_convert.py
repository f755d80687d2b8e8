"""K-4.6: convert_config error shape, every error reported, validate() hooks."""

from __future__ import annotations

import msgspec
import pytest

from fabrikit.kernel._config import ConfigError, ConfigStruct, InvalidConfigValue, convert_config


class Quotas(ConfigStruct):
    daily: int = 100
    monthly: int = 1000

    def validate(self) -> None:
        if self.daily > self.monthly:
            raise InvalidConfigValue("daily", f"must not exceed monthly ({self.monthly})")


class Upstream(ConfigStruct):
    host: str
    port: int = 443

    def validate(self) -> None:
        if self.host.startswith("-"):
            raise ValueError("host must not start with '-'")


class ChatConfig(ConfigStruct):
    quotas: Quotas = msgspec.field(default_factory=Quotas)
    upstreams: list[Upstream] = []
    models: dict[str, Quotas] = {}
    label: str | None = None


PREFIX = "modules.mini-chat.config"


def errors_of(raw: object, path: str = PREFIX) -> list[str]:
    with pytest.raises(ConfigError) as err:
        convert_config(raw, ChatConfig, path)
    return err.value.messages


def test_message_shape_is_prefix_path_then_msgspec_text() -> None:
    assert errors_of({"quotas": {"daily": "x"}}) == [f"{PREFIX}.quotas.daily: Expected int, got str"]


def test_strict_false_coerces_strings() -> None:
    cfg = convert_config({"quotas": {"daily": "5"}}, ChatConfig, PREFIX)
    assert cfg.quotas.daily == 5


def test_every_error_is_reported_with_list_and_dict_paths() -> None:
    raw = {
        "quotas": {"daily": "x", "monthly": "y"},
        "upstreams": [{"host": "a"}, {"port": "p"}],
        "models": {"gpt-4o": {"dayly": 1}},
        "extra": True,
    }
    assert errors_of(raw) == [
        f"{PREFIX}: unknown key 'extra'",
        f"{PREFIX}.quotas.daily: Expected int, got str",
        f"{PREFIX}.quotas.monthly: Expected int, got str",
        f"{PREFIX}.upstreams[1]: missing required key 'host'",
        f"{PREFIX}.upstreams[1].port: Expected int, got str",
        f"{PREFIX}.models.gpt-4o: unknown key 'dayly' (did you mean 'daily'?)",
    ]


def test_root_type_mismatch() -> None:
    assert errors_of([1, 2]) == [f"{PREFIX}: Expected object, got array"]


def test_without_prefix_the_path_starts_at_the_key() -> None:
    assert errors_of({"quotas": 3}, path="") == ["quotas: Expected object, got int"]


def test_optional_nested_value_is_checked() -> None:
    assert errors_of({"label": ["x"]}) == [f"{PREFIX}.label: Expected str | null, got array"]


def test_validate_hooks_run_on_nested_structs_and_name_the_field() -> None:
    raw = {"quotas": {"daily": 5, "monthly": 1}, "upstreams": [{"host": "ok"}, {"host": "-bad"}]}
    assert errors_of(raw) == [
        f"{PREFIX}.quotas.daily: must not exceed monthly (1)",
        f"{PREFIX}.upstreams[1]: host must not start with '-'",
    ]


class Color:
    def __init__(self, name: str) -> None:
        self.name = name


class Theme(ConfigStruct):
    color: Color


def test_custom_dec_hook_is_chained() -> None:
    def hook(tp: type, obj: object) -> object:
        if tp is Color and isinstance(obj, str):
            return Color(obj)
        raise NotImplementedError

    assert convert_config({"color": "red"}, Theme, dec_hook=hook).color.name == "red"


def test_config_error_str_is_one_message_per_line() -> None:
    err = ConfigError(["a: x", "b: y"])
    assert str(err) == "a: x\nb: y"
    assert ConfigError("one").messages == ["one"]
