"""Staging and the ready switch (P-1.3.2, P-1.3.3, P-1.3.5, P-1.3.6)."""

from __future__ import annotations

import logging

import pytest

from fabrikit.modules.types_registry import TypesRegistry
from fabrikit.modules.types_registry.sdk import (
    ActivationFailed,
    ListQuery,
    NotReady,
    RegisterError,
    RegisterOk,
    summarize,
)
from tests.types_registry.docs import BASE, closed_base, derived, instance, schema

CHILD = f"{BASE}acme.app.ns.child.v1~"


async def test_reads_before_ready_raise_not_ready(registry: TypesRegistry) -> None:
    assert not registry.is_ready()
    await registry.register([schema(BASE)])
    with pytest.raises(NotReady) as info:
        await registry.get(BASE)
    assert (info.value.code, info.value.status) == ("TYPES_REGISTRY_NOT_READY", 503)
    with pytest.raises(NotReady):
        await registry.list()
    with pytest.raises(NotReady):
        await registry.list(ListQuery(pattern="gts.*"))
    registry.activate()
    assert registry.is_ready()
    assert (await registry.get(BASE)).gts_id == BASE


async def test_staging_accepts_any_order(registry: TypesRegistry) -> None:
    batch = [
        instance(f"{CHILD}acme.app.ns.one.v1", name="one", size=3),
        derived(CHILD, BASE, properties={"size": {"type": "integer", "maximum": 5}}),
        instance(f"{BASE}acme.app.ns.two.v1", name="two"),
        closed_base(),
    ]
    results = await registry.register(batch)
    assert summarize(results).succeeded == 4
    assert registry.staged_ids == [r.entity.gts_id for r in results if isinstance(r, RegisterOk)]
    registry.activate()
    assert registry.staged_ids == []
    listed = [e.gts_id for e in await registry.list()]
    assert listed == sorted([BASE, CHILD, f"{CHILD}acme.app.ns.one.v1", f"{BASE}acme.app.ns.two.v1"])


async def test_repeat_activation_is_a_no_op(registry: TypesRegistry) -> None:
    await registry.register([schema(BASE)])
    registry.activate()
    version = registry.version
    registry.activate()
    assert registry.version == version
    assert [e.gts_id for e in await registry.list()] == [BASE]


async def test_a_bad_instance_aborts_activation(
    registry: TypesRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    bad = f"{BASE}acme.app.ns.bad.v1"
    await registry.register([closed_base(), instance(bad, size="big", extra=1)])
    with caplog.at_level(logging.ERROR, logger="types_registry"), pytest.raises(ActivationFailed) as info:
        registry.activate()
    err = info.value
    assert (err.code, err.status) == ("TYPES_REGISTRY_ACTIVATION_FAILED", 500)
    expected = (
        f"{bad}: Instance does not match its type '{BASE}': "
        "$: 'name' is a required property; "
        "$: Additional properties are not allowed ('extra' was unexpected); "
        "$.size: 'big' is not of type 'integer'"
    )
    assert err.failures == [expected]
    assert err.detail == f"1 entity failed validation: {expected}"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "types_registry"]
    assert [r.getMessage() for r in errors] == [f"GTS entity failed activation: {expected}"]
    assert not registry.is_ready()
    with pytest.raises(NotReady):
        await registry.list()


async def test_every_failure_is_listed(registry: TypesRegistry) -> None:
    orphan = "gts.acme.app.ns.orphan.v1~acme.app.ns.sub.v1~"
    await registry.register(
        [
            schema(BASE, properties={"n": {"type": "integer"}}),
            instance(f"{BASE}a.b.c.d.v1", n="x"),
            instance("gts.nobody.app.ns.thing.v1~a.b.c.d.v1"),
            derived(orphan, "gts.acme.app.ns.orphan.v1~"),
        ]
    )
    with pytest.raises(ActivationFailed) as info:
        registry.activate()
    assert info.value.failures == [
        f"{orphan}: Unresolvable $ref 'gts://gts.acme.app.ns.orphan.v1~' at /allOf/0",
        f"{orphan}: Base schema 'gts.acme.app.ns.orphan.v1~' not found for chain validation",
        f"{BASE}a.b.c.d.v1: Instance does not match its type '{BASE}': $.n: 'x' is not of type 'integer'",
        "gts.nobody.app.ns.thing.v1~a.b.c.d.v1: Type schema 'gts.nobody.app.ns.thing.v1~' not found for instance",
    ]
    assert info.value.detail.startswith("4 entities failed validation: ")


async def test_a_loosening_schema_aborts_activation(registry: TypesRegistry) -> None:
    await registry.register([closed_base(), derived(CHILD, BASE, properties={"color": {"type": "string"}})])
    with pytest.raises(ActivationFailed) as info:
        registry.activate()
    assert info.value.failures == [
        f"{CHILD}: property 'color' is not allowed: base schema '{BASE}' is closed (additionalProperties: false)"
    ]


async def test_instances_of_an_invalid_schema_are_reported_too(registry: TypesRegistry) -> None:
    await registry.register(
        [closed_base(), derived(CHILD, BASE, additionalProperties=True), instance(f"{CHILD}a.b.c.d.v1")]
    )
    with pytest.raises(ActivationFailed) as info:
        registry.activate()
    assert info.value.failures == [
        f"{CHILD}: additionalProperties reopens the closed base schema '{BASE}'",
        f"{CHILD}a.b.c.d.v1: Type schema '{CHILD}' is invalid",
    ]


async def test_activation_can_succeed_after_a_failed_attempt_is_fixed_by_a_new_registry() -> None:
    # A failed activation aborts startup; the next start builds a fresh registry from corrected entities.
    first = TypesRegistry()
    await first.register([schema(BASE, required=["n"]), instance(f"{BASE}a.b.c.d.v1")])
    with pytest.raises(ActivationFailed):
        first.activate()
    second = TypesRegistry()
    await second.register([schema(BASE, required=["n"]), instance(f"{BASE}a.b.c.d.v1", n=1)])
    second.activate()
    assert second.is_ready()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"$id": f"gts://{BASE}", "$schema": "https://example.com/my-dialect"},
            "Unknown JSON Schema dialect 'https://example.com/my-dialect'",
        ),
        (schema(BASE, properties={"a": {"type": "strin"}}), "Invalid JSON Schema at $.properties.a.type: "),
        (
            schema(BASE, properties={"a": {"$ref": "http://example.com/remote.json"}}),
            "Invalid $ref 'http://example.com/remote.json' at /properties/a: only '#…' and 'gts://<GTS id>' "
            "references are allowed",
        ),
        (
            schema(BASE, allOf=[{"$ref": "gts://gts.bad"}]),
            "Invalid $ref 'gts://gts.bad' at /allOf/0: Invalid GTS ID 'gts.bad': Segment #1: Too few tokens "
            "(got 1, min 5)",
        ),
        (
            schema(BASE, properties={"a": {"type": "string", "x-gts-ref": "acme"}}),
            "Invalid x-gts-ref 'acme' at /properties/a: expected 'gts.*', a GTS id or pattern, or a JSON Pointer "
            "such as '/$id'",
        ),
    ],
)
async def test_structural_checks_run_while_staging(
    registry: TypesRegistry, document: dict, message: str
) -> None:
    result = (await registry.register([document]))[0]
    assert isinstance(result, RegisterError)
    assert result.code == "TYPES_REGISTRY_VALIDATION_FAILED"
    assert result.error.startswith(message)
    assert registry.staged_ids == []


async def test_staging_does_not_resolve_refs_or_validate_instances(registry: TypesRegistry) -> None:
    results = await registry.register(
        [
            derived(CHILD, BASE),  # base not registered yet
            instance(f"{BASE}a.b.c.d.v1", anything="goes"),  # type not registered yet
        ]
    )
    assert all(isinstance(r, RegisterOk) for r in results)


async def test_circular_refs_abort_activation(registry: TypesRegistry) -> None:
    a, b = "gts.acme.app.ns.a.v1~", "gts.acme.app.ns.b.v1~"
    await registry.register(
        [schema(a, allOf=[{"$ref": f"gts://{b}"}]), schema(b, allOf=[{"$ref": f"gts://{a}"}])]
    )
    with pytest.raises(ActivationFailed) as info:
        registry.activate()
    assert info.value.failures == [
        f"{a}: Circular $ref chain: {a} -> {b} -> {a}",
        f"{b}: Circular $ref chain: {b} -> {a} -> {b}",
    ]


async def test_recursive_schemas_through_properties_are_fine(registry: TypesRegistry) -> None:
    tree = schema(BASE, properties={"children": {"type": "array", "items": {"$ref": "#"}}})
    await registry.register(
        [tree, instance(f"{BASE}a.b.c.d.v1", children=[{"children": [{"children": []}]}])]
    )
    registry.activate()
    assert registry.is_ready()
