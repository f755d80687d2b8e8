"""Validation after ready (P-1.2.3–P-1.2.5, P-1.3.4): dialects, formats, $ref, x-gts-ref, chain checks, logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from fabrikit.modules.types_registry import TypesRegistry
from fabrikit.modules.types_registry.domain.validation import assert_format_checkers
from fabrikit.modules.types_registry.sdk import RegisterError, RegisterOk
from tests.types_registry.docs import BASE, DRAFT_07, DRAFT_2020_12, derived, instance, schema

DIALECTS = [DRAFT_07, DRAFT_2020_12]
CHILD = f"{BASE}acme.app.ns.child.v1~"


async def _register(reg: TypesRegistry, *docs: dict[str, Any]) -> list[RegisterOk | RegisterError]:
    return await reg.register(list(docs))


def _error(result: RegisterOk | RegisterError) -> str:
    assert isinstance(result, RegisterError), result
    assert result.code == "TYPES_REGISTRY_VALIDATION_FAILED"
    return result.error


def _fine(result: RegisterOk | RegisterError) -> None:
    assert isinstance(result, RegisterOk), result


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_required_and_types(ready: TypesRegistry, dialect: str) -> None:
    person = schema(
        BASE,
        dialect=dialect,
        required=["name", "address"],
        properties={
            "name": {"type": "string"},
            "address": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}, "zip": {"type": "integer"}},
            },
        },
    )
    _fine((await _register(ready, person))[0])
    ok, nested_ok, missing, wrong, nested_wrong = await _register(
        ready,
        instance(f"{BASE}a.b.c.d.v1", name="Ann", address={"city": "Oslo"}),
        instance(
            f"{BASE}a.b.c.d.v2", name="Bo", address={"city": "Rome", "zip": 100}, extra=[1, {"deep": None}]
        ),
        instance(f"{BASE}a.b.c.d.v3", name="Cy"),
        instance(f"{BASE}a.b.c.d.v4", name=5, address={"city": "Bern"}),
        instance(f"{BASE}a.b.c.d.v5", name="Di", address={"zip": "x"}),
    )
    _fine(ok)
    _fine(nested_ok)
    assert (
        _error(missing) == f"Instance does not match its type '{BASE}': $: 'address' is a required property"
    )
    assert _error(wrong) == f"Instance does not match its type '{BASE}': $.name: 5 is not of type 'string'"
    assert _error(nested_wrong) == (
        f"Instance does not match its type '{BASE}': $.address: 'city' is a required property; "
        "$.address.zip: 'x' is not of type 'integer'"
    )


async def test_dialect_specific_keywords(ready: TypesRegistry) -> None:
    tuple_2020 = "gts.acme.app.ns.pair.v1~"
    tuple_07 = "gts.acme.app.ns.pair.v2~"
    await _register(
        ready,
        schema(
            tuple_2020,
            dialect=DRAFT_2020_12,
            properties={"pair": {"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False}},
        ),
        schema(
            tuple_07,
            dialect=DRAFT_07,
            properties={
                "pair": {"items": [{"type": "string"}, {"type": "integer"}], "additionalItems": False}
            },
        ),
    )
    for type_id in (tuple_2020, tuple_07):
        good, bad, long = await _register(
            ready,
            instance(f"{type_id}a.b.c.d.v1", pair=["a", 1]),
            instance(f"{type_id}a.b.c.d.v2", pair=[1, "a"]),
            instance(f"{type_id}a.b.c.d.v3", pair=["a", 1, 2]),
        )
        _fine(good)
        assert "$.pair[0]: 1 is not of type 'string'" in _error(bad)
        _error(long)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "2024-05-01T12:30:00Z", "2024-13-45 nope"),
        ("uri", "https://example.com/a?b=c", "not a uri"),
        ("hostname", "api.example.com", "-bad-.example"),
    ],
)
async def test_format_checking_really_runs(
    ready: TypesRegistry, dialect: str, fmt: str, good: str, bad: str
) -> None:
    await _register(ready, schema(BASE, dialect=dialect, properties={"v": {"type": "string", "format": fmt}}))
    ok, failed = await _register(
        ready, instance(f"{BASE}a.b.c.d.v1", v=good), instance(f"{BASE}a.b.c.d.v2", v=bad)
    )
    _fine(ok)
    assert _error(failed) == f"Instance does not match its type '{BASE}': $.v: '{bad}' is not a '{fmt}'"


def test_format_checkers_are_installed() -> None:
    assert_format_checkers()


async def test_local_and_gts_refs_with_fragments(ready: TypesRegistry) -> None:
    defs = schema(BASE, definitions={"code": {"type": "string", "pattern": "^[A-Z]{3}$"}})
    user = schema(
        "gts.acme.app.ns.user.v1~",
        definitions={"positive": {"type": "integer", "minimum": 1}},
        properties={
            "currency": {"$ref": f"gts://{BASE}#/definitions/code"},
            "qty": {"$ref": "#/definitions/positive"},
        },
    )
    assert all(isinstance(r, RegisterOk) for r in await _register(ready, defs, user))
    ok, bad = await _register(
        ready,
        instance("gts.acme.app.ns.user.v1~a.b.c.d.v1", currency="EUR", qty=2),
        instance("gts.acme.app.ns.user.v1~a.b.c.d.v2", currency="eur", qty=0),
    )
    _fine(ok)
    assert _error(bad) == (
        "Instance does not match its type 'gts.acme.app.ns.user.v1~': "
        "$.currency: 'eur' does not match '^[A-Z]{3}$'; $.qty: 0 is less than the minimum of 1"
    )


async def test_unresolvable_ref_after_ready(ready: TypesRegistry) -> None:
    doc = schema(
        BASE, properties={"a": {"$ref": "gts://gts.acme.app.ns.missing.v1~"}, "b": {"$ref": "#/nope"}}
    )
    assert _error((await _register(ready, doc))[0]) == (
        "Unresolvable $ref 'gts://gts.acme.app.ns.missing.v1~' at /properties/a; "
        "Unresolvable $ref '#/nope' at /properties/b"
    )


async def test_missing_base_after_ready(ready: TypesRegistry) -> None:
    doc = schema(CHILD, properties={"x": {"type": "string"}})
    assert _error((await _register(ready, doc))[0]) == f"Base schema '{BASE}' not found for chain validation"


async def test_derived_schema_and_its_instances(ready: TypesRegistry) -> None:
    base = schema(
        BASE, required=["id", "name"], properties={"id": {"type": "string"}, "name": {"type": "string"}}
    )
    child = derived(
        CHILD, BASE, properties={"name": {"type": "string", "minLength": 2}, "age": {"type": "integer"}}
    )
    results = await _register(ready, base, child)
    assert all(isinstance(r, RegisterOk) for r in results)
    ok, short, no_name = await _register(
        ready,
        instance(f"{CHILD}a.b.c.d.v1", name="Al", age=3),
        instance(f"{CHILD}a.b.c.d.v2", name="A"),
        instance(f"{CHILD}a.b.c.d.v3", age=1),
    )
    _fine(ok)
    assert "$.name: 'A' is too short" in _error(short)
    assert "$: 'name' is a required property" in _error(no_name)


class TestXGtsRef:
    @pytest.mark.parametrize(
        ("ref", "good", "bad", "why"),
        [
            (
                "gts.*",
                "gts.any.thing.at.all.v1~",
                "not-a-gts-id",
                "is not a valid GTS id (Must start with 'gts.')",
            ),
            (
                "gts.acme.*",
                "gts.acme.x.y.z.v1~",
                "gts.globex.x.y.z.v1~",
                "does not start with 'gts.acme.' (x-gts-ref)",
            ),
            (
                "gts.acme.app.ns.target.v1~",
                "gts.acme.app.ns.target.v1~a.b.c.d.v1",
                "gts.acme.app.ns.target.v2~",
                "does not start with 'gts.acme.app.ns.target.v1~' (x-gts-ref)",
            ),
            (
                "gts.acme.app.ns.target.v1~*",
                "gts.acme.app.ns.target.v1~a.b.c.d.v1",
                "gts.acme.*",
                "is not a valid GTS id (Wildcard '*' is not allowed in a GTS ID (patterns are for queries only))",
            ),
            (
                "/$id",
                f"{BASE}a.b.c.d.v7",
                "gts.other.app.ns.thing.v1~a.b.c.d.v7",
                f"does not start with '{BASE}' (x-gts-ref)",
            ),
            (
                "/x-owner",
                "gts.owner.app.ns.x.v1~",
                "gts.acme.app.ns.x.v1~",
                "does not start with 'gts.owner.' (x-gts-ref)",
            ),
        ],
    )
    async def test_forms(self, ready: TypesRegistry, ref: str, good: str, bad: str, why: str) -> None:
        doc = schema(
            BASE,
            **{"x-owner": "gts://gts.owner.*"},
            properties={"target": {"type": "string", "x-gts-ref": ref}, "count": {"x-gts-ref": ref}},
        )
        _fine((await _register(ready, doc))[0])
        ok, failed, not_a_string = await _register(
            ready,
            instance(f"{BASE}a.b.c.d.v1", target=good),
            instance(f"{BASE}a.b.c.d.v2", target=bad),
            instance(f"{BASE}a.b.c.d.v3", count=3),
        )
        _fine(ok)
        assert _error(failed) == f"Instance does not match its type '{BASE}': $.target: '{bad}' {why}"
        _fine(not_a_string)

    @pytest.mark.parametrize(
        ("ref", "message"),
        [
            (
                "/nope",
                "Invalid x-gts-ref '/nope' at /properties/a: JSON Pointer '/nope' does not resolve",
            ),
            ("/type", "Invalid x-gts-ref '/type' at /properties/a: Invalid GTS wildcard pattern: object: "),
            (
                "/properties",
                "Invalid x-gts-ref '/properties' at /properties/a: the pointer must reach a string",
            ),
            (
                "gts.acme",
                "Invalid x-gts-ref 'gts.acme' at /properties/a: Invalid GTS wildcard pattern: gts.acme: ",
            ),
            ("https://x", "Invalid x-gts-ref 'https://x' at /properties/a: expected 'gts.*'"),
            (7, "Invalid x-gts-ref at /properties/a: must be a string, got int"),
        ],
    )
    async def test_bad_forms_fail_at_registration(
        self, registry: TypesRegistry, ref: object, message: str
    ) -> None:
        doc = schema(BASE, properties={"a": {"type": "string", "x-gts-ref": ref}})
        assert _error((await _register(registry, doc))[0]).startswith(message)

    @pytest.mark.parametrize("child_dialect", DIALECTS)
    async def test_a_base_x_gts_ref_holds_through_a_derived_schema(
        self, ready: TypesRegistry, child_dialect: str
    ) -> None:
        base = schema(BASE, properties={"target": {"type": "string", "x-gts-ref": "gts.acme.*"}})
        child = derived(CHILD, BASE, dialect=child_dialect, properties={"note": {"type": "string"}})
        assert all(isinstance(r, RegisterOk) for r in await _register(ready, base, child))
        ok, bad = await _register(
            ready,
            instance(f"{CHILD}a.b.c.d.v1", target="gts.acme.x.y.z.v1~"),
            instance(f"{CHILD}a.b.c.d.v2", target="gts.globex.x.y.z.v1~"),
        )
        _fine(ok)
        assert "does not start with 'gts.acme.' (x-gts-ref)" in _error(bad)

    async def test_whitespace_around_an_id_is_rejected(self, ready: TypesRegistry) -> None:
        await _register(ready, schema(BASE, properties={"t": {"type": "string", "x-gts-ref": "gts.*"}}))
        bad = (await _register(ready, instance(f"{BASE}a.b.c.d.v1", t=" gts.a.b.c.d.v1~")))[0]
        assert "must not carry surrounding whitespace" in _error(bad)


async def test_validators_are_cached_per_registry_version(ready: TypesRegistry) -> None:
    await _register(ready, schema(BASE))
    first = ready.validator_for(BASE)
    assert ready.validator_for(BASE) is first
    await _register(ready, instance(f"{BASE}a.b.c.d.v1"))
    assert ready.validator_for(BASE) is first, "instances do not change the schema set"
    version = ready.version
    await _register(ready, schema("gts.acme.app.ns.other.v1~"))
    assert ready.version == version + 1
    rebuilt = ready.validator_for(BASE)
    assert rebuilt is not first
    assert ready.validator_for(BASE) is rebuilt


class TestDebugLogs:
    """P-1.3.6: every registration failure is logged at DEBUG with id, error and (clipped) content."""

    @staticmethod
    def _debug_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name == "types_registry" and r.levelno == logging.DEBUG
        ]

    async def test_failures_are_logged(self, ready: TypesRegistry, caplog: pytest.LogCaptureFixture) -> None:
        a, b = "gts.acme.app.ns.a.v1~", "gts.acme.app.ns.b.v1~"
        caplog.set_level(logging.DEBUG, logger="types_registry")
        await _register(
            ready,
            schema(BASE, properties={"n": {"type": "nope"}}),  # invalid schema
            schema(BASE, properties={"n": {"type": "integer"}}),
            instance(f"{BASE}a.b.c.d.v1", n="x"),  # instance mismatch
            derived(CHILD.replace("thing", "ghost"), "gts.acme.app.ns.ghost.v1~"),  # ref chain
            schema(a, allOf=[{"$ref": f"gts://{a}"}]),  # circular ref
            schema(b, allOf=[{"$ref": f"gts://{b}"}]),
        )
        lines = self._debug_lines(caplog)
        assert len(lines) == 5
        assert lines[0].startswith(
            f"GTS entity registration failed: gts_id={BASE} code=TYPES_REGISTRY_VALIDATION_FAILED"
        )
        assert "Invalid JSON Schema" in lines[0]
        assert '"type":"nope"' in lines[0]
        assert f"gts_id={BASE}a.b.c.d.v1" in lines[1]
        assert "is not of type 'integer'" in lines[1]
        assert "not found for chain validation" in lines[2]
        assert f"Circular $ref chain: {a} -> {a}" in lines[3]
        assert f"Circular $ref chain: {b} -> {b}" in lines[4]
        assert all("content={" in line for line in lines)

    async def test_logged_content_is_clipped(
        self, ready: TypesRegistry, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="types_registry")
        await _register(ready, {"id": "bad", "blob": "x" * 50_000})
        (line,) = self._debug_lines(caplog)
        content = line.split("content=", 1)[1]
        assert content.endswith("…(truncated, 50022 bytes)")
        assert len(content.encode()) < 8 * 1024 + 64
