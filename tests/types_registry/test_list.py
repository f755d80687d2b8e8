"""Listing and reading (P-1.4.2, P-1.7 "List" and "GET" items that are not REST)."""

from __future__ import annotations

import pytest

from fabrikit.modules.types_registry import TypesRegistry
from fabrikit.modules.types_registry.sdk import InvalidGtsId, InvalidQuery, ListQuery, NotFound
from tests.types_registry.docs import instance, schema

ACME = "gts.e2e.list.acme.thing.v1~"
ACME_SUB = f"{ACME}globex.list.sub.thing.v1~"
GLOBEX = "gts.globex.list.other.thing.v1~"
MIXED = "gts.globex.pkg.ns.thing.v1~"
IDS = {
    "acme": ACME,
    "acme_sub": ACME_SUB,
    "acme_inst": f"{ACME}e2e.list.acme.one.v1",
    "sub_inst": f"{ACME_SUB}acme.pkg.zz.two.v1",
    "globex": GLOBEX,
    "globex_inst": f"{GLOBEX}e2e.list.acme.three.v1",
    "mixed": MIXED,
    "mixed_inst": f"{MIXED}acme.list.ns.four.v1",
}


@pytest.fixture
async def populated() -> TypesRegistry:
    reg = TypesRegistry()
    docs = [
        schema(ACME),
        schema(ACME_SUB),
        schema(GLOBEX),
        schema(MIXED),
        instance(IDS["acme_inst"]),
        instance(IDS["sub_inst"]),
        instance(IDS["globex_inst"]),
        instance(IDS["mixed_inst"]),
    ]
    await reg.register(docs)
    reg.activate()
    return reg


async def _ids(reg: TypesRegistry, **filters: object) -> list[str]:
    return [e.gts_id for e in await reg.list(ListQuery(**filters))]  # type: ignore[arg-type]


async def test_no_filter_lists_everything_sorted(populated: TypesRegistry) -> None:
    listed = [e.gts_id for e in await populated.list()]
    assert listed == sorted(IDS.values())
    assert await _ids(populated) == listed


async def test_is_schema(populated: TypesRegistry) -> None:
    assert await _ids(populated, is_schema=True) == sorted([ACME, ACME_SUB, GLOBEX, MIXED])
    assert await _ids(populated, is_schema=False) == sorted(
        [IDS["acme_inst"], IDS["sub_inst"], IDS["globex_inst"], IDS["mixed_inst"]]
    )


async def test_vendor_package_namespace_any_segment(populated: TypesRegistry) -> None:
    assert await _ids(populated, vendor="e2e") == sorted(
        [ACME, ACME_SUB, IDS["acme_inst"], IDS["sub_inst"], IDS["globex_inst"]]
    )
    assert await _ids(populated, package="pkg") == sorted([IDS["sub_inst"], MIXED, IDS["mixed_inst"]])
    assert await _ids(populated, namespace="sub") == sorted([ACME_SUB, IDS["sub_inst"]])


async def test_segment_scope_primary(populated: TypesRegistry) -> None:
    assert await _ids(populated, vendor="globex", segment_scope="primary") == sorted(
        [GLOBEX, IDS["globex_inst"], MIXED, IDS["mixed_inst"]]
    )
    assert await _ids(populated, vendor="globex", segment_scope="any") == sorted(
        [ACME_SUB, IDS["sub_inst"], GLOBEX, IDS["globex_inst"], MIXED, IDS["mixed_inst"]]
    )


async def test_filters_hold_on_the_same_segment(populated: TypesRegistry) -> None:
    # mixed_inst has vendor "globex" in segment 1 and package "list" in segment 2: no single segment has both.
    assert IDS["mixed_inst"] not in await _ids(populated, vendor="globex", package="list")
    assert await _ids(populated, vendor="globex", package="list") == sorted(
        [ACME_SUB, IDS["sub_inst"], GLOBEX, IDS["globex_inst"]]
    )
    assert await _ids(populated, vendor="acme", package="list", namespace="ns") == [IDS["mixed_inst"]]


async def test_pattern(populated: TypesRegistry) -> None:
    assert await _ids(populated, pattern="gts.e2e.list.acme.*") == sorted(
        [ACME, ACME_SUB, IDS["acme_inst"], IDS["sub_inst"]]
    )
    assert await _ids(populated, pattern=ACME + "*") == sorted([ACME_SUB, IDS["acme_inst"], IDS["sub_inst"]])
    assert await _ids(populated, pattern=ACME) == sorted([ACME, ACME_SUB, IDS["acme_inst"], IDS["sub_inst"]])


async def test_combined_filters(populated: TypesRegistry) -> None:
    assert await _ids(populated, pattern="gts.e2e.*", is_schema=False, vendor="acme") == [IDS["sub_inst"]]
    assert await _ids(
        populated, pattern="gts.*", is_schema=True, vendor="globex", segment_scope="primary"
    ) == [
        GLOBEX,
        MIXED,
    ]


async def test_no_match_is_empty(populated: TypesRegistry) -> None:
    assert await _ids(populated, vendor="nobody") == []
    assert await _ids(populated, pattern="gts.nobody.*") == []


async def test_a_bad_pattern_raises(populated: TypesRegistry) -> None:
    with pytest.raises(InvalidGtsId) as info:
        await populated.list(ListQuery(pattern="gts.acme*"))
    assert (
        info.value.detail
        == "Invalid GTS wildcard pattern: gts.acme*: The '*' must be a whole token ('.*' or '~*')"
    )


async def test_a_bad_scope_raises(populated: TypesRegistry) -> None:
    with pytest.raises(InvalidQuery) as info:
        await populated.list(ListQuery(segment_scope="every"))  # type: ignore[arg-type]
    assert (info.value.code, info.value.status) == ("invalid_request", 400)


async def test_get_returns_the_full_content(populated: TypesRegistry) -> None:
    entity = await populated.get(ACME)
    assert entity.content == schema(ACME)
    assert (entity.vendor, entity.package, entity.namespace) == ("e2e", "list", "acme")
    assert len(entity.segments) == 1
    assert len((await populated.get(IDS["sub_inst"])).segments) == 3


@pytest.mark.parametrize("gts_id", ["gts.unknown.app.ns.thing.v1~", "not even an id", "gts.acme.*", ""])
async def test_get_unknown_or_malformed_is_not_found(populated: TypesRegistry, gts_id: str) -> None:
    with pytest.raises(NotFound) as info:
        await populated.get(gts_id)
    assert (info.value.code, info.value.status) == ("TYPES_REGISTRY_NOT_FOUND", 404)
    assert info.value.detail == f"Entity '{gts_id}' not found"


async def test_list_sees_entities_registered_after_ready(populated: TypesRegistry) -> None:
    await populated.register([schema("gts.aaa.list.first.thing.v1~")])
    assert (await populated.list())[0].gts_id == "gts.aaa.list.first.thing.v1~"
