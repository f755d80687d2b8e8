"""The custom-module example in docs/module-authoring.md runs against a real server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom-module"


@pytest.fixture
def notes_module():
    sys.path.insert(0, str(EXAMPLE))
    try:
        from notes.module import NotesModule

        yield NotesModule
    finally:
        sys.path.remove(str(EXAMPLE))
        for name in [m for m in sys.modules if m == "notes" or m.startswith("notes.")]:
            del sys.modules[name]


async def test_notes_example_serves_tenant_scoped_notes(notes_module) -> None:
    from fabrikit.kernel.testing import RuntimeHarness
    from fabrikit.modules.api_gateway.module import ApiGateway
    from fabrikit.modules.authn_resolver.module import AuthnResolver
    from fabrikit.modules.types_registry.module import TypesRegistryModule
    from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN

    config = {
        "modules": {"notes": None, "api-gateway": {"config": {"bind_addr": "127.0.0.1:0"}}},
        "plugins": {
            "static-authn": {
                "config": {
                    "mode": "static_tokens",
                    "tokens": [
                        {
                            "token": "alice",
                            "identity": {"subject_tenant_id": "0a000000-0000-4000-8000-000000000001"},
                        },
                        {
                            "token": "bob",
                            "identity": {"subject_tenant_id": "0b000000-0000-4000-8000-000000000002"},
                        },
                    ],
                }
            }
        },
    }
    modules = [notes_module, TypesRegistryModule, AuthnResolver, ApiGateway]
    async with RuntimeHarness(modules=modules, plugins=[STATIC_AUTHN], config=config) as h:
        alice = {"Authorization": "Bearer alice"}
        created = await h.http.post("/notes/v1/notes", json={"text": "hello"}, headers=alice)
        assert created.status_code == 201, created.text
        note_id = created.json()["id"]
        listed = await h.http.get("/notes/v1/notes", headers=alice)
        assert [n["text"] for n in listed.json()] == ["hello"]
        other = await h.http.get(f"/notes/v1/notes/{note_id}", headers={"Authorization": "Bearer bob"})
        assert other.status_code == 404
        assert other.json()["code"] == "note_not_found"
        assert (h.home / "notes" / "notes.sqlite").exists()
