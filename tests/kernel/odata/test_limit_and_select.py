"""limit (K-12 table) and $select (K-12.5, mini-chat C-4.6)."""

from __future__ import annotations

import pytest

from fabrikit.kernel.odata import InvalidLimit, InvalidSelect, apply_select, parse_limit, parse_select


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 25), ("1", 1), (" 7 ", 7), ("+3", 3), ("007", 7), (1000, 1000), ("1001", 1000), (10**30, 1000),
     ("9" * 5000, 1000)],
)  # fmt: skip
def test_limit_values(raw: str | int | None, expected: int) -> None:
    assert parse_limit(raw) == expected


def test_limit_default_and_max_are_parameters() -> None:
    assert parse_limit(None, default=20, max=100) == 20
    assert parse_limit("101", default=20, max=100) == 100


@pytest.mark.parametrize("raw", ["", "abc", "1.0", "1e2", "0", "-1", "-" + "9" * 40, "0x10", True, 2.0, 0])
def test_limit_errors(raw: object) -> None:
    with pytest.raises(InvalidLimit):
        parse_limit(raw)  # type: ignore[arg-type]


def test_select_names_are_trimmed_and_lowercased() -> None:
    assert parse_select(" Title , id,Meta.Name ") == ("title", "id", "meta.name")


def test_select_limits() -> None:
    assert len(parse_select(",".join(f"f{i}" for i in range(100)))) == 100
    at_limit = "a" * 2048
    assert parse_select(at_limit) == (at_limit,)
    with pytest.raises(InvalidSelect, match="too long"):
        parse_select(at_limit + "b")
    with pytest.raises(InvalidSelect, match="at most 100"):
        parse_select(",".join(f"f{i}" for i in range(101)))
    with pytest.raises(InvalidSelect, match="twice"):
        parse_select("id, ID")
    with pytest.raises(InvalidSelect, match="empty"):
        parse_select(" ")


ITEM = {
    "id": "c1",
    "Title": "hello",
    "meta": {"name": "n", "size": 3, "deep": {"x": 1, "y": 2}},
    "messages": [{"role": "user", "text": "hi"}, {"role": "assistant", "text": "yo"}, "loose"],
    "empty": None,
}


def test_select_top_level_case_insensitive_keeps_original_spelling_and_order() -> None:
    assert apply_select(ITEM, parse_select("title,ID")) == {"id": "c1", "Title": "hello"}


def test_select_unknown_names_are_ignored() -> None:
    assert apply_select(ITEM, parse_select("nope, id, meta.nope")) == {"id": "c1", "meta": {}}


def test_select_dotted_paths_project_nested_fields() -> None:
    assert apply_select(ITEM, parse_select("meta.name,meta.deep.y")) == {
        "meta": {"name": "n", "deep": {"y": 2}}
    }


def test_select_parent_keeps_whole_object_in_either_order() -> None:
    whole = {"meta": ITEM["meta"]}
    assert apply_select(ITEM, parse_select("meta,meta.name")) == whole
    assert apply_select(ITEM, parse_select("meta.name,meta")) == whole


def test_select_projects_list_elements_one_by_one() -> None:
    assert apply_select(ITEM, parse_select("messages.role")) == {
        "messages": [{"role": "user"}, {"role": "assistant"}, "loose"]
    }


def test_select_on_null_and_on_a_list_of_items() -> None:
    assert apply_select(ITEM, parse_select("empty.x")) == {"empty": None}
    assert apply_select([ITEM, {"ID": 2}], ("id",)) == [{"id": "c1"}, {"ID": 2}]


def test_select_does_not_mutate_the_item() -> None:
    before = repr(ITEM)
    apply_select(ITEM, ("meta.name",))
    assert repr(ITEM) == before
