"""K-10.4 selection (vendor, priority, id tie-break, bad entries, not-ready retry, caching) and K-10.5 fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from fabrikit.kernel.plugins import (
    PluginCatalog,
    PluginInstance,
    PluginNotFound,
    PluginSelector,
    PluginUnavailable,
    fanout,
)
from fabrikit.kernel.testing import RuntimeHarness
from tests.fixtures.catalog import FakeCatalog

from .helpers import SPEC, SPEC_ID, Host, greeter, instance_id


class App:
    def __init__(self, harness: RuntimeHarness, catalog: FakeCatalog) -> None:
        self.harness, self.catalog = harness, catalog

    def selector(self, vendor: str | None = "hyperspot") -> PluginSelector[Any]:
        return self.harness.runtime.contexts["host"].plugins.selector(SPEC, vendor=vendor)


def _app(
    tmp_path: Path, plugins: list[Any], config: dict[str, Any] | None = None
) -> tuple[RuntimeHarness, FakeCatalog]:
    catalog = FakeCatalog()
    raw = {"modules": {"host": None}, "plugins": config or {}}
    harness = RuntimeHarness(modules=[Host], plugins=plugins, config=raw, clients={PluginCatalog: catalog},
                             home=tmp_path)  # fmt: skip
    return harness, catalog


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    plugins = [
        greeter("b-cheap", vendor="acme", priority=10),
        greeter("a-cheap", vendor="acme", priority=10),
        greeter("pricey", vendor="acme", priority=90),
        greeter("native", priority=50),
    ]
    harness, catalog = _app(tmp_path, plugins)
    async with harness:
        yield App(harness, catalog)


async def test_lowest_priority_wins_and_ties_go_to_the_smallest_id(app: App) -> None:
    chosen = await app.selector("acme").get_instance()
    assert chosen.gts_id == instance_id("a-cheap")
    assert (chosen.vendor, chosen.priority) == ("acme", 10)
    assert await chosen.client.greet() == "a-cheap"


async def test_vendor_filters_exactly(app: App) -> None:
    assert await (await app.selector().get()).greet() == "native"  # default vendor 'hyperspot'
    with pytest.raises(PluginNotFound) as info:
        await app.selector("ACME").get()
    assert (info.value.spec_id, info.value.vendor) == (SPEC_ID, "ACME")
    assert info.value.code == "no_plugin_available"
    assert info.value.status == 503


async def test_none_vendor_matches_any(app: App) -> None:
    assert (await app.selector(None).get_instance()).gts_id == instance_id("a-cheap")


async def test_config_priority_override_changes_the_choice(tmp_path: Path) -> None:
    plugins = [greeter("one", priority=10), greeter("two", priority=20)]
    harness, _ = _app(tmp_path, plugins, {"two": {"priority": 1}})
    async with harness:
        chosen = await harness.runtime.contexts["host"].plugins.selector(SPEC).get_instance()
    assert chosen.gts_id == instance_id("two")
    assert chosen.priority == 1


async def test_malformed_entries_are_skipped_and_warned_once(app: App) -> None:
    bad_id = instance_id("aaa-bad")
    # sorts first and has the best priority, but its vendor is not a string
    app.catalog.put(bad_id, {"id": bad_id, "vendor": 7, "priority": 0, "properties": {}})
    mismatched = instance_id("aab-mismatch")
    app.catalog.put(mismatched, {"id": "something-else", "vendor": "acme", "priority": 0, "properties": {}})
    boolean = instance_id("aac-bool")
    app.catalog.put(boolean, {"id": boolean, "vendor": "acme", "priority": True, "properties": {}})
    no_props = instance_id("aad-props")
    app.catalog.put(no_props, {"id": no_props, "vendor": "acme", "priority": 0, "properties": []})
    with capture_logs() as logs:
        assert (await app.selector("acme").get_instance()).gts_id == instance_id("a-cheap")
        sel = app.selector("acme")
        await sel.all()
        await sel.all()
    warned = [e["instance_id"] for e in logs if e["event"] == "plugin_instance_invalid"]
    # once per selector: the first selector and the second each warn about the four entries once
    assert sorted(warned) == sorted([bad_id, mismatched, boolean, no_props] * 2)


async def test_catalog_not_ready_is_unavailable_and_the_next_call_retries(app: App) -> None:
    sel = app.selector("acme")
    app.catalog.ready = False
    with pytest.raises(PluginUnavailable, match="the types registry is not ready"):
        await sel.get()
    with pytest.raises(PluginUnavailable):
        await sel.get()  # failures are not cached ...
    app.catalog.ready = True
    assert await (await sel.get()).greet() == "a-cheap"  # ... so this call selects


async def test_chosen_instance_without_a_client_is_unavailable(app: App) -> None:
    ghost = instance_id("aaa-ghost")
    app.catalog.put(ghost, {"id": ghost, "vendor": "acme", "priority": 1, "properties": {}})
    with pytest.raises(PluginUnavailable, match=f"no client registered for {ghost}") as info:
        await app.selector("acme").get()
    assert info.value.status == 503


async def test_choice_is_cached_until_invalidated(app: App) -> None:
    sel = app.selector("acme")
    first = await sel.get_instance()
    calls = app.catalog.instance_calls
    # a better instance appears (another process registered it); the cached choice stands
    app.catalog.put(instance_id("a-cheap"), {**app.catalog.entries[instance_id("a-cheap")], "priority": 99})
    assert await sel.get_instance() is first
    assert app.catalog.instance_calls == calls
    sel.invalidate()
    again = await sel.get_instance()
    assert again.gts_id == instance_id("b-cheap")
    assert app.catalog.instance_calls == calls + 1


async def test_selection_is_single_flight(app: App) -> None:
    sel = app.selector("acme")
    before = app.catalog.instance_calls
    got = await asyncio.gather(*(sel.get() for _ in range(10)))
    assert len({id(c) for c in got}) == 1
    assert app.catalog.instance_calls == before + 1


async def test_all_lists_matching_instances_with_clients_in_priority_order(app: App) -> None:
    ghost = instance_id("ghost")
    app.catalog.put(ghost, {"id": ghost, "vendor": "acme", "priority": 1, "properties": {}})
    sel = app.selector("acme")
    assert [i.gts_id for i in await sel.all()] == [
        instance_id("a-cheap"), instance_id("b-cheap"), instance_id("native"), instance_id("pricey"),
    ]  # fmt: skip
    assert [i.gts_id for i in await sel.all(vendor="acme")] == [
        instance_id("a-cheap"), instance_id("b-cheap"), instance_id("pricey"),
    ]  # fmt: skip
    calls = app.catalog.instance_calls
    await sel.all()
    assert app.catalog.instance_calls == calls + 1  # never cached


class Client:
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour

    async def call(self) -> str:
        if self.behaviour == "raise":
            raise ConnectionError("peer reset")
        if self.behaviour == "hang":
            await asyncio.Event().wait()
        return self.behaviour


async def test_fanout_isolates_failures_and_timeouts() -> None:
    instances = [
        PluginInstance("gts:a", "v", 1, Client("ok-a")),
        PluginInstance("gts:b", "v", 2, Client("raise")),
        PluginInstance("gts:c", "v", 3, Client("hang")),
        PluginInstance("gts:d", "v", 4, Client("ok-d")),
    ]
    outcomes = await fanout(instances, lambda c: c.call(), timeout=0.2)
    assert [o.gts_id for o in outcomes] == ["gts:a", "gts:b", "gts:c", "gts:d"]
    assert [(o.ok, o.result) for o in outcomes] == [
        (True, "ok-a"),
        (False, None),
        (False, None),
        (True, "ok-d"),
    ]
    assert isinstance(outcomes[1].error, ConnectionError)
    assert isinstance(outcomes[2].error, TimeoutError)


async def test_fanout_of_nothing() -> None:
    assert await fanout([], lambda c: c.call()) == []


async def test_fanout_over_selected_plugins(app: App) -> None:
    instances = await app.selector().all(vendor=None)
    outcomes = await fanout(instances, lambda c: c.greet())
    assert [o.result for o in outcomes] == ["a-cheap", "b-cheap", "native", "pricey"]
