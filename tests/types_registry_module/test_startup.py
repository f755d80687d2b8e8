"""Start-up of the real types-registry module (P-1.3): bundled schemas, staged plugin instances, activation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fabrikit.kernel import StartupError
from fabrikit.kernel.plugins import PluginSpec, TypeCatalog
from fabrikit.kernel.security import PLUGIN_BASE_SCHEMA_ID
from fabrikit.modules.types_registry.infra.schemas_dir import schemas_path
from fabrikit.modules.types_registry.sdk import ListQuery, TypesRegistryClient

from .hosts import DIRECT_TYPE_ID, SPEC_ID, Greeter, Host, greeter, harness, instance_id

AUTHN_SPEC_ID = "gts.x.core.modkit.plugin.v1~x.core.authn_resolver.plugin.v1~"


def _bundled_ids() -> set[str]:
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in schemas_path().glob("*.json")]
    return {d["$id"].removeprefix("gts://") for d in docs}


async def test_startup_loads_every_bundled_schema(tmp_path: Path) -> None:
    bundled = _bundled_ids()
    assert PLUGIN_BASE_SCHEMA_ID in bundled
    assert AUTHN_SPEC_ID in bundled
    async with harness(tmp_path) as h:
        registry = h.hub.get(TypesRegistryClient)  # type: ignore[type-abstract]
        schemas = {e.gts_id for e in await registry.list(ListQuery(is_schema=True))}
        entries = await h.hub.get(TypeCatalog).list_entries(None)  # type: ignore[type-abstract]
    assert bundled <= schemas
    by_id = {e.gts_id: e.module for e in entries}
    assert by_id[AUTHN_SPEC_ID] == "schemas/"
    assert by_id[PLUGIN_BASE_SCHEMA_ID] == "types-registry, schemas/"


async def test_bundled_schema_loading_can_be_switched_off(tmp_path: Path) -> None:
    async with harness(tmp_path, load_bundled_schemas=False) as h:
        registry = h.hub.get(TypesRegistryClient)  # type: ignore[type-abstract]
        schemas = [e.gts_id for e in await registry.list(ListQuery(is_schema=True))]
    assert schemas == [PLUGIN_BASE_SCHEMA_ID]


async def test_registrants_are_the_module_the_plugin_and_the_folder(tmp_path: Path) -> None:
    async with harness(tmp_path, Host, greeter("hello")) as h:
        entries = await h.hub.get(TypeCatalog).list_entries("gts.x.*")  # type: ignore[type-abstract]
    by_id = {e.gts_id: (e.module, e.is_schema) for e in entries}
    assert by_id[SPEC_ID] == ("host", True)
    assert by_id[DIRECT_TYPE_ID] == ("host", True)  # registered through TypesRegistryClient in init
    assert by_id[instance_id("hello")] == ("plugin:hello", False)


async def test_an_instance_that_does_not_match_its_spec_aborts_startup_naming_it(tmp_path: Path) -> None:
    bad = greeter("broken", properties={"language": 5})
    with pytest.raises(StartupError) as caught:
        async with harness(tmp_path, Host, greeter("fine"), bad):
            pass
    message = str(caught.value)
    assert "post_init of 'types-registry' failed" in message
    assert f"{instance_id('broken')}: Instance does not match its type '{SPEC_ID}'" in message
    assert "$.properties.language: 5 is not of type 'string'" in message
    assert instance_id("fine") not in message


async def test_a_spec_that_loosens_the_base_aborts_startup(tmp_path: Path) -> None:
    class LooseHost(Host):
        manifest = Host.manifest
        spec = PluginSpec(SPEC_ID, iface=Greeter, properties={"type": "string"})

    with pytest.raises(StartupError) as caught:
        async with harness(tmp_path, LooseHost):
            pass
    assert str(caught.value) == (
        "post_init of 'types-registry' failed: ActivationFailed: 1 entity failed validation: "
        f"{SPEC_ID}: property 'properties': type ['string'] is not within the base type ['object']"
    )


async def test_a_spec_that_drifted_from_its_schemas_file_fails_and_points_at_the_export(
    tmp_path: Path,
) -> None:
    class DriftedHost(Host):
        manifest = Host.manifest
        spec = PluginSpec(AUTHN_SPEC_ID, iface=Greeter, description="not what schemas/ says")

    with pytest.raises(StartupError) as caught:
        async with harness(tmp_path, DriftedHost):
            pass
    message = str(caught.value)
    assert f"Entity '{AUTHN_SPEC_ID}' already exists with different content" in message
    assert f"schemas/{AUTHN_SPEC_ID}.json is out of date" in message
    assert "fabrikit types --export" in message


async def test_a_spec_identical_to_its_schemas_file_is_idempotent(tmp_path: Path) -> None:
    from fabrikit.modules.authn_resolver.sdk import AUTHN_PLUGIN_SPEC

    class SameHost(Host):
        manifest = Host.manifest
        spec = AUTHN_PLUGIN_SPEC

    async with harness(tmp_path, SameHost) as h:
        entries = await h.hub.get(TypeCatalog).list_entries(AUTHN_SPEC_ID)  # type: ignore[type-abstract]
    assert {e.gts_id: e.module for e in entries if e.is_schema}[AUTHN_SPEC_ID] == "host, schemas/"
