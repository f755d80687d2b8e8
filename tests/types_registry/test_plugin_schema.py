"""The base plugin schema (P-1.3.1) and K-10 derived plugin-spec schemas."""

from __future__ import annotations

import msgspec
import pytest

from fabrikit.kernel.security import PLUGIN_BASE_SCHEMA_ID
from fabrikit.modules.types_registry import TypesRegistry
from fabrikit.modules.types_registry.sdk import (
    BASE_PLUGIN_SCHEMA,
    DRAFT_07,
    InvalidGtsId,
    ListQuery,
    RegisterError,
    RegisterOk,
    ensure_all_ok,
    plugin_spec_schema,
)

SPEC = f"{PLUGIN_BASE_SCHEMA_ID}x.core.test_resolver.plugin.v1~"


class Limits(msgspec.Struct):
    rpm: int
    burst: int = 10


class ResolverConfig(msgspec.Struct):
    endpoint: str
    limits: Limits


def _plugin(
    name: str, *, vendor: str = "hyperspot", priority: int = 100, **props: object
) -> dict[str, object]:
    return {
        "id": f"{SPEC}hyperspot.x.{name}.plugin.v1",
        "vendor": vendor,
        "priority": priority,
        "properties": props,
    }


def test_base_schema_shape() -> None:
    assert BASE_PLUGIN_SCHEMA["$id"] == "gts://gts.x.core.modkit.plugin.v1~"
    assert BASE_PLUGIN_SCHEMA["$schema"] == DRAFT_07
    assert BASE_PLUGIN_SCHEMA["required"] == ["id", "vendor", "priority", "properties"]
    assert BASE_PLUGIN_SCHEMA["additionalProperties"] is False
    assert BASE_PLUGIN_SCHEMA["properties"]["id"] == {"type": "string", "x-gts-ref": "/$id"}
    assert BASE_PLUGIN_SCHEMA["properties"]["priority"]["type"] == "integer"


def test_spec_schema_shape() -> None:
    props = {"type": "object", "properties": {"a": {"type": "string"}}}
    spec = plugin_spec_schema(SPEC, props, description="Test resolver plugins")
    assert spec == {
        "$id": f"gts://{SPEC}",
        "$schema": DRAFT_07,
        "description": "Test resolver plugins",
        "type": "object",
        "allOf": [{"$ref": "gts://gts.x.core.modkit.plugin.v1~"}],
        "properties": {
            "id": {"type": "string", "x-gts-ref": "/$id"},
            "vendor": {"type": "string"},
            "priority": {"type": "integer"},
            "properties": props,
        },
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    "spec_id",
    [
        "gts.x.core.modkit.plugin.v1~",
        "gts.acme.core.other.plugin.v1~x.y.z.w.v1~",
        f"{SPEC}a.b.c.d.v1",
        "nope",
    ],
)
def test_spec_ids_must_derive_from_the_base(spec_id: str) -> None:
    with pytest.raises(InvalidGtsId):
        plugin_spec_schema(spec_id, {})


@pytest.mark.parametrize("staged", [True, False])
async def test_spec_and_instances_validate(staged: bool) -> None:
    reg = TypesRegistry()
    spec = plugin_spec_schema(SPEC, msgspec.json.schema(ResolverConfig))
    assert "$defs" in spec
    assert "$defs" not in spec["properties"]["properties"]
    good = _plugin("good", endpoint="https://x", limits={"rpm": 5})
    bad = _plugin("bad", endpoint="https://x", limits={"rpm": "many"})
    if staged:
        ensure_all_ok(await reg.register([good, spec, BASE_PLUGIN_SCHEMA]))
        reg.activate()
    else:
        reg.activate()
        ensure_all_ok(await reg.register([BASE_PLUGIN_SCHEMA, spec, good]))
    (result,) = await reg.register([bad])
    assert isinstance(result, RegisterError)
    assert "$.properties.limits.rpm: 'many' is not of type 'integer'" in result.error
    listed = await reg.list(ListQuery(pattern=SPEC + "*", is_schema=False))
    assert [e.gts_id for e in listed] == [good["id"]]


async def test_plugin_instances_obey_the_base() -> None:
    reg = TypesRegistry()
    reg.activate()
    ensure_all_ok(await reg.register([BASE_PLUGIN_SCHEMA, plugin_spec_schema(SPEC, {"type": "object"})]))
    results = await reg.register(
        [
            _plugin("ok"),
            {"id": f"{SPEC}hyperspot.x.a.plugin.v1", "vendor": "hyperspot", "priority": 1},
            {**_plugin("b"), "priority": "high"},
            {**_plugin("c"), "extra": True},
            {**_plugin("d"), "properties": []},
        ]
    )
    assert isinstance(results[0], RegisterOk)
    errors = [r.error for r in results[1:] if isinstance(r, RegisterError)]
    assert len(errors) == 4
    assert "'properties' is a required property" in errors[0]
    assert "$.priority: 'high' is not of type 'integer'" in errors[1]
    assert "('extra' was unexpected)" in errors[2]
    assert "$.properties: [] is not of type 'object'" in errors[3]


async def test_an_instance_id_outside_the_spec_fails_x_gts_ref() -> None:
    # Registered under "gtsId" (first in entity_id_fields here) while its "id" names another spec.
    reg = TypesRegistry(entity_id_fields=["$id", "gts_id", "id"])
    reg.activate()
    other = "gts.x.core.modkit.plugin.v1~x.core.other.plugin.v1~"
    ensure_all_ok(
        await reg.register(
            [BASE_PLUGIN_SCHEMA, plugin_spec_schema(SPEC, {}), plugin_spec_schema(other, {"type": "object"})]
        )
    )
    doc = {"id": f"{other}a.b.c.d.v1", "vendor": "v", "priority": 1, "properties": {}}
    (result,) = await reg.register([{**doc, "gts_id": f"{SPEC}a.b.c.d.v1"}])
    assert isinstance(result, RegisterError)
    assert f"does not start with '{SPEC}' (x-gts-ref)" in result.error


async def test_a_spec_properties_schema_of_another_type_loosens_the_base() -> None:
    reg = TypesRegistry()
    reg.activate()
    ensure_all_ok(await reg.register([BASE_PLUGIN_SCHEMA]))
    (result,) = await reg.register([plugin_spec_schema(SPEC, {"type": "array"})])
    assert isinstance(result, RegisterError)
    assert result.error == "property 'properties': type ['array'] is not within the base type ['object']"
