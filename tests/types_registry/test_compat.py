"""Derived schemas must not loosen a closed base (P-1.2.6), checked when registered after ready."""

from __future__ import annotations

from typing import Any

import pytest

from fabrikit.modules.types_registry import TypesRegistry
from fabrikit.modules.types_registry.sdk import RegisterError, RegisterOk
from tests.types_registry.docs import BASE, closed_base, derived, schema

CHILD = f"{BASE}acme.app.ns.child.v1~"


@pytest.fixture
async def with_base(ready: TypesRegistry) -> TypesRegistry:
    (result,) = await ready.register([closed_base()])
    assert isinstance(result, RegisterOk)
    return ready


async def _child_error(reg: TypesRegistry, doc: dict[str, Any]) -> str:
    (result,) = await reg.register([doc])
    assert isinstance(result, RegisterError), result
    assert result.code == "TYPES_REGISTRY_VALIDATION_FAILED"
    return result.error


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        (
            {"properties": {"color": {"type": "string"}}},
            f"property 'color' is not allowed: base schema '{BASE}' is closed (additionalProperties: false)",
        ),
        ({"additionalProperties": True}, f"additionalProperties reopens the closed base schema '{BASE}'"),
        (
            {"additionalProperties": {"type": "string"}},
            f"additionalProperties reopens the closed base schema '{BASE}'",
        ),
        (
            {"patternProperties": {"^x-": {}}},
            f"patternProperties adds properties to the closed base schema '{BASE}'",
        ),
        (
            {"properties": {"size": {"type": "string"}}},
            "property 'size': type ['string'] is not within the base type ['integer']",
        ),
        (
            {"properties": {"size": {"type": ["integer", "null"]}}},
            "property 'size': type ['integer', 'null'] is not within the base type ['integer']",
        ),
        (
            {"properties": {"kind": {"enum": ["a", "z"]}}},
            "property 'kind': enum values ['z'] are not in the base enum",
        ),
        (
            {"properties": {"kind": {"const": "q"}}},
            "property 'kind': enum values ['q'] are not in the base enum",
        ),
        (
            {"properties": {"size": {"minimum": -1}}},
            "property 'size': minimum -1 is looser than the base minimum 0",
        ),
        (
            {"properties": {"size": {"maximum": 11}}},
            "property 'size': maximum 11 is looser than the base maximum 10",
        ),
        (
            {"properties": {"name": {"maxLength": 21}}},
            "property 'name': maxLength 21 is looser than the base maxLength 20",
        ),
    ],
)
async def test_loosening_is_rejected(with_base: TypesRegistry, overlay: dict[str, Any], message: str) -> None:
    assert await _child_error(with_base, derived(CHILD, BASE, **overlay)) == message


async def test_required_never_shrinks_for_a_schema_that_drops_its_base(with_base: TypesRegistry) -> None:
    standalone = schema(CHILD, properties={"name": {"type": "string"}}, additionalProperties=False)
    assert await _child_error(with_base, standalone) == (
        f"required never shrinks: base schema '{BASE}' requires ['name']"
    )


async def test_const_and_pattern_must_stay(ready: TypesRegistry) -> None:
    base = schema(
        BASE,
        properties={"v": {"type": "string", "const": "x"}, "p": {"type": "string", "pattern": "^a"}},
        additionalProperties=False,
    )
    await ready.register([base])
    error = await _child_error(
        ready, derived(CHILD, BASE, properties={"v": {"const": "y"}, "p": {"pattern": "^b"}})
    )
    assert (
        error
        == "property 'v': const differs from the base const 'x'; property 'p': pattern '^b' differs from the base '^a'"
    )


async def test_nested_closed_objects(ready: TypesRegistry) -> None:
    base = schema(
        BASE,
        properties={
            "cfg": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}
        },
    )
    await ready.register([base])
    error = await _child_error(
        ready,
        derived(CHILD, BASE, properties={"cfg": {"properties": {"a": {"type": "string"}, "b": {}}}}),
    )
    assert error == (
        "property 'cfg.a': type ['string'] is not within the base type ['integer']; "
        "property 'cfg': property 'b' is not allowed by the closed base"
    )


@pytest.mark.parametrize(
    "overlay",
    [
        {},
        {"properties": {"size": {"type": "integer", "minimum": 1, "maximum": 5}}},
        {"properties": {"kind": {"enum": ["a", "b"]}}, "required": ["name", "kind"]},
        {"properties": {"kind": {"const": "c"}, "name": {"maxLength": 5, "type": "string"}}},
        {"additionalProperties": False, "properties": {"id": {}, "name": {}, "size": {}, "kind": {}}},
    ],
)
async def test_narrowing_is_fine(with_base: TypesRegistry, overlay: dict[str, Any]) -> None:
    (result,) = await with_base.register([derived(CHILD, BASE, **overlay)])
    assert isinstance(result, RegisterOk), result


async def test_an_open_base_accepts_new_properties(ready: TypesRegistry) -> None:
    await ready.register([schema(BASE, properties={"a": {"type": "integer"}})])
    (result,) = await ready.register([derived(CHILD, BASE, properties={"b": {"type": "string"}})])
    assert isinstance(result, RegisterOk), result


async def test_integer_narrows_number(ready: TypesRegistry) -> None:
    await ready.register([schema(BASE, properties={"n": {"type": "number"}})])
    (result,) = await ready.register([derived(CHILD, BASE, properties={"n": {"type": "integer"}})])
    assert isinstance(result, RegisterOk), result


async def test_grandchildren_are_checked_against_the_whole_chain(with_base: TypesRegistry) -> None:
    # The child is open itself but inherits the closed grandparent through its $ref.
    (child,) = await with_base.register([derived(CHILD, BASE)])
    assert isinstance(child, RegisterOk)
    grandchild = f"{CHILD}acme.app.ns.grand.v1~"
    error = await _child_error(with_base, derived(grandchild, CHILD, properties={"color": {}}))
    assert (
        error
        == f"property 'color' is not allowed: base schema '{CHILD}' is closed (additionalProperties: false)"
    )
