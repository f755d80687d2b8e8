"""Registration (P-1.2, P-1.4.1, P-1.3.4): results per item, id extraction, kinds, idempotency, conflicts."""

from __future__ import annotations

from uuid import UUID

import msgspec
import pytest

from fabrikit.modules.types_registry import TypesRegistry
from fabrikit.modules.types_registry.sdk import (
    GtsEntity,
    GtsId,
    RegisterError,
    RegisterOk,
    ensure_all_ok,
    summarize,
)
from tests.types_registry.docs import BASE, DRAFT_07, instance, schema

TYPE = "gts.acme.app.ns.thing.v1~"


def _ok(result: RegisterOk | RegisterError) -> GtsEntity:
    assert isinstance(result, RegisterOk), result
    return result.entity


def _err(result: RegisterOk | RegisterError) -> RegisterError:
    assert isinstance(result, RegisterError), result
    return result


async def test_one_type_registers(ready: TypesRegistry) -> None:
    results = await ready.register([schema(TYPE)])
    assert summarize(results) == summarize([results[0]])
    assert (summarize(results).total, summarize(results).succeeded, summarize(results).failed) == (1, 1, 0)
    entity = _ok(results[0])
    assert entity.gts_id == TYPE
    assert entity.is_schema
    assert entity.id == GtsId.parse(TYPE).uuid
    assert await ready.get(TYPE) == entity


async def test_a_batch_of_fifty(ready: TypesRegistry) -> None:
    batch = [schema(f"gts.acme.app.ns.t{i}.v1~") for i in range(50)]
    results = await ready.register(batch)
    summary = summarize(results)
    assert (summary.total, summary.succeeded, summary.failed) == (50, 50, 0)
    assert [_ok(r).gts_id for r in results] == [f"gts.acme.app.ns.t{i}.v1~" for i in range(50)]


async def test_type_then_instance_in_one_batch(ready: TypesRegistry) -> None:
    results = await ready.register([schema(TYPE), {"id": f"{TYPE}v.p.n.x.v1"}])
    assert [type(r) for r in results] == [RegisterOk, RegisterOk]
    inst = _ok(results[1])
    assert not inst.is_schema
    assert inst.type_id == TYPE
    assert len(inst.segments) == 2
    assert len(_ok(results[0]).segments) == 1


async def test_instance_before_its_type_fails_after_ready(ready: TypesRegistry) -> None:
    results = await ready.register([{"id": f"{TYPE}v.p.n.x.v1"}, schema(TYPE)])
    err = _err(results[0])
    assert err.code == "TYPES_REGISTRY_VALIDATION_FAILED"
    assert err.gts_id == f"{TYPE}v.p.n.x.v1"
    assert err.error == f"Type schema '{TYPE}' not found for instance"
    _ok(results[1])


async def test_item_errors_keep_order(ready: TypesRegistry) -> None:
    results = await ready.register(
        [schema("gts.acme.app.ns.one.v1~"), {"$id": "invalid-id-format"}, schema("gts.acme.app.ns.two.v1~")]
    )
    summary = summarize(results)
    assert (summary.total, summary.succeeded, summary.failed) == (3, 2, 1)
    assert [r.__struct_config__.tag for r in results] == ["ok", "error", "ok"]
    err = _err(results[1])
    assert err.gts_id == "invalid-id-format"
    assert err.code == "TYPES_REGISTRY_INVALID_GTS_ID"
    assert err.error == "Invalid GTS ID 'invalid-id-format': Must start with 'gts.'"


@pytest.mark.parametrize(
    ("entity", "code", "message"),
    [
        ({"name": "no id"}, "TYPES_REGISTRY_INVALID_GTS_ID", "No GTS ID field found in entity"),
        ({"id": 42}, "TYPES_REGISTRY_INVALID_GTS_ID", "No GTS ID field found in entity"),
        (
            {"$id": "gts://gts.acme.*", "$schema": DRAFT_07},
            "TYPES_REGISTRY_INVALID_GTS_ID",
            "Invalid GTS ID 'gts.acme.*': Wildcard '*' is not allowed in a GTS ID (patterns are for queries only)",
        ),
        (
            ["not", "an", "object"],
            "TYPES_REGISTRY_VALIDATION_FAILED",
            "Entity must be a JSON object, got list",
        ),
    ],
)
async def test_item_errors(ready: TypesRegistry, entity: object, code: str, message: str) -> None:
    err = _err((await ready.register([entity]))[0])  # type: ignore[list-item]
    assert (err.code, err.error) == (code, message)


async def test_empty_batch_gives_a_zero_summary(ready: TypesRegistry) -> None:
    results = await ready.register([])
    assert results == []
    assert summarize(results) == summarize([])
    assert (summarize(results).total, summarize(results).succeeded, summarize(results).failed) == (0, 0, 0)


async def test_a_single_mapping_is_a_programming_error(ready: TypesRegistry) -> None:
    with pytest.raises(TypeError, match="list of entities"):
        await ready.register(schema(TYPE))  # type: ignore[arg-type]


def test_id_field_order_and_gts_uri_stripping() -> None:
    reg = TypesRegistry()
    reg.activate()
    reg.register_sync([schema(TYPE)])
    # "$id" wins over "gtsId" and "id"; gts:// is stripped from "$id" only.
    ok = reg.register_sync([{"gtsId": f"{TYPE}a.b.c.d.v1", "id": f"{TYPE}z.z.z.z.v1"}])
    assert _ok(ok[0]).gts_id == f"{TYPE}a.b.c.d.v1"
    not_stripped = reg.register_sync([{"gtsId": f"gts://{TYPE}a.b.c.d.v2"}])
    assert _err(not_stripped[0]).error.endswith("Must start with 'gts.'")


def test_custom_entity_id_fields() -> None:
    reg = TypesRegistry(entity_id_fields=["key"])
    reg.activate()
    reg.register_sync([{"key": TYPE, "$schema": DRAFT_07}])
    ok = reg.register_sync([{"key": f"{TYPE}a.b.c.d.v1", "id": "ignored"}])
    assert _ok(ok[0]).gts_id == f"{TYPE}a.b.c.d.v1"
    with pytest.raises(ValueError, match="entity_id_fields"):
        TypesRegistry(entity_id_fields=[])


async def test_type_id_must_be_a_schema(ready: TypesRegistry) -> None:
    err = _err((await ready.register([{"$id": f"gts://{TYPE}", "type": "object"}]))[0])
    assert err.code == "TYPES_REGISTRY_VALIDATION_FAILED"
    assert "is not a JSON Schema" in err.error
    empty = _err((await ready.register([{"$id": f"gts://{TYPE}", "$schema": ""}]))[0])
    assert "is not a JSON Schema" in empty.error


async def test_instances_must_not_carry_schema(ready: TypesRegistry) -> None:
    await ready.register([schema(TYPE)])
    err = _err((await ready.register([{"id": f"{TYPE}a.b.c.d.v1", "$schema": DRAFT_07}]))[0])
    assert err.code == "TYPES_REGISTRY_VALIDATION_FAILED"
    assert "carries '$schema'" in err.error


async def test_schema_id_must_be_its_gts_uri(ready: TypesRegistry) -> None:
    doc = {"gtsId": TYPE, "$id": "gts://gts.other.app.ns.thing.v1~", "$schema": DRAFT_07}
    reg = TypesRegistry(entity_id_fields=["gtsId"])
    reg.activate()
    err = _err(reg.register_sync([doc])[0])
    assert (
        err.error
        == "Schema '$id' must be 'gts://gts.acme.app.ns.thing.v1~', got 'gts://gts.other.app.ns.thing.v1~'"
    )


async def test_content_is_kept_as_submitted(ready: TypesRegistry) -> None:
    doc = schema(
        TYPE,
        description="Ünïcødé ✓ — 日本語",
        properties={"z": {"type": "null"}, "a": {"default": None}},
        examples=[{"deep": {"deeper": {"deepest": [1, [2, [3, {"x": None}]]]}}}],
    )
    entity = _ok((await ready.register([doc]))[0])
    assert entity.content == doc
    assert list(entity.content) == list(doc)
    assert list(entity.content["properties"]) == ["z", "a"]
    assert entity.description == "Ünïcødé ✓ — 日本語"
    stored = await ready.get(TYPE)
    assert msgspec.json.encode(stored.content) == msgspec.json.encode(doc)


async def test_content_is_a_private_copy(ready: TypesRegistry) -> None:
    doc = schema(TYPE, properties={"a": {"type": "string"}})
    await ready.register([doc])
    doc["properties"]["a"]["type"] = "integer"
    assert (await ready.get(TYPE)).content["properties"]["a"]["type"] == "string"


async def test_description_only_when_a_string(ready: TypesRegistry) -> None:
    results = await ready.register([schema(TYPE), instance(f"{TYPE}a.b.c.d.v1", description=["not", "text"])])
    assert _ok(results[1]).description is None
    bad_schema = _err(
        (await ready.register([schema("gts.acme.app.ns.other.v1~", description=["not", "text"])]))[0]
    )
    assert bad_schema.error == "Invalid JSON Schema at $.description: ['not', 'text'] is not of type 'string'"


async def test_same_content_twice_is_idempotent(ready: TypesRegistry) -> None:
    first = _ok((await ready.register([schema(TYPE, properties={"n": {"const": 1}})]))[0])
    # Key order does not matter for deep equality.
    reordered = {
        "type": "object",
        "properties": {"n": {"const": 1}},
        "$schema": DRAFT_07,
        "$id": f"gts://{TYPE}",
    }
    again = _ok((await ready.register([reordered]))[0])
    assert again == first


@pytest.mark.parametrize("other", [1.0, True, "1"])
async def test_json_types_matter_for_deep_equality(ready: TypesRegistry, other: object) -> None:
    await ready.register([schema(TYPE, properties={"n": {"const": 1}})])
    err = _err((await ready.register([schema(TYPE, properties={"n": {"const": other}})]))[0])
    assert err.code == "TYPES_REGISTRY_ALREADY_EXISTS"
    assert err.error == f"Entity '{TYPE}' already exists with different content"


async def test_conflict_while_staged(registry: TypesRegistry) -> None:
    await registry.register([schema(TYPE, description="one")])
    err = _err((await registry.register([schema(TYPE, description="two")]))[0])
    assert err.code == "TYPES_REGISTRY_ALREADY_EXISTS"
    registry.activate()
    assert (await registry.get(TYPE)).description == "one"


async def test_later_items_see_earlier_ones(ready: TypesRegistry) -> None:
    results = await ready.register([schema(TYPE), schema(TYPE, description="changed")])
    assert _err(results[1]).code == "TYPES_REGISTRY_ALREADY_EXISTS"


async def test_ensure_all_ok_lists_failures(ready: TypesRegistry) -> None:
    from fabrikit.modules.types_registry.sdk import RegistrationFailed

    good = await ready.register([schema(TYPE)])
    assert ensure_all_ok(good) == [await ready.get(TYPE)]
    mixed = await ready.register([schema(BASE), {"$id": "bad"}])
    with pytest.raises(RegistrationFailed) as info:
        ensure_all_ok(mixed)
    assert info.value.detail == (
        "1 of 2 GTS registration(s) failed: bad: [TYPES_REGISTRY_INVALID_GTS_ID] "
        "Invalid GTS ID 'bad': Must start with 'gts.'"
    )
    assert info.value.failures == [mixed[1]]


async def test_entity_helpers_read_the_first_segment(ready: TypesRegistry) -> None:
    await ready.register([schema(TYPE), instance(f"{TYPE}other.pkg.space.item.v1")])
    entity = await ready.get(f"{TYPE}other.pkg.space.item.v1")
    assert (entity.vendor, entity.package, entity.namespace) == ("acme", "app", "ns")
    assert isinstance(entity.id, UUID)
    assert entity.id == (await ready.get(f"{TYPE}other.pkg.space.item.v1")).id
