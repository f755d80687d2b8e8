"""K-4.2: safe YAML loading with duplicate keys refused at any depth."""

from __future__ import annotations

import pytest

from fabrikit.kernel._config import ConfigError, load_yaml, parse_flow_value, read_yaml_file


def test_duplicate_top_level_key_names_both_lines() -> None:
    text = "server:\n  name: a\nmodules:\n  oagw:\nlogging: {}\nmodules:\n  mini-chat:\n"
    with pytest.raises(ConfigError) as err:
        load_yaml(text)
    assert err.value.messages == ["duplicate key 'modules' at line 6, column 1 (first at line 3)"]


def test_duplicate_key_at_depth_reports_its_column() -> None:
    text = "modules:\n  oagw:\n    config:\n      timeout: 1\n      retries: 2\n      timeout: 3\n"
    with pytest.raises(ConfigError) as err:
        load_yaml(text)
    assert str(err.value) == "duplicate key 'timeout' at line 6, column 7 (first at line 4)"


def test_every_duplicate_is_reported_in_reading_order() -> None:
    text = "a:\n  x: 1\n  x: 2\nb: [{y: 1, y: 2}]\na: 3\n"
    with pytest.raises(ConfigError) as err:
        load_yaml(text)
    assert err.value.messages == [
        "duplicate key 'x' at line 3, column 3 (first at line 2)",
        "duplicate key 'y' at line 4, column 12 (first at line 4)",
        "duplicate key 'a' at line 5, column 1 (first at line 1)",
    ]
    assert str(err.value) == "\n".join(err.value.messages)


def test_merge_key_may_be_overridden_explicitly() -> None:
    data = load_yaml("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  x: 3\n")
    assert data["child"] == {"x": 3, "y": 2}


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n"])
def test_empty_document_is_an_empty_mapping(text: str) -> None:
    assert load_yaml(text) == {}


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "string"), ("42\n", "integer")]
)
def test_root_must_be_a_mapping(text: str, kind: str) -> None:
    with pytest.raises(ConfigError, match=f"^the config root must be a mapping, got a {kind}$"):
        load_yaml(text)


def test_syntax_error_names_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"^invalid YAML at line 2, column 1: "):
        load_yaml("a: [1, 2\n")


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_yaml("a: !!python/object/apply:os.system ['true']\n")


def test_missing_file_is_a_config_error(tmp_path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=f"^config file '{missing}' not found$"):
        read_yaml_file(missing)


def test_reads_a_file(tmp_path) -> None:
    path = tmp_path / "fabrikit.yaml"
    path.write_text("modules:\n  oagw:\n", encoding="utf-8")
    assert read_yaml_file(path) == {"modules": {"oagw": None}}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("8080", 8080),
        ("[a, b]", ["a", "b"]),
        ("'text'", "text"),
        ("{a: 1}", {"a": 1}),
        ("plain words", "plain words"),
        ("", None),
        ("0.0.0.0:8080", "0.0.0.0:8080"),
    ],
)
def test_flow_values(text: str, value: object) -> None:
    assert parse_flow_value(text) == value


@pytest.mark.parametrize("text", ["a: b", "- a\n- b"])
def test_block_collections_are_not_flow_values(text: str) -> None:
    with pytest.raises(ConfigError, match="expected one YAML flow value"):
        parse_flow_value(text)
