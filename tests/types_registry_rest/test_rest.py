"""types-registry REST items of P-1.7 (P-1.5): request errors, 405, 404, list filters, before-ready 503."""

from __future__ import annotations

import json
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from fabrikit.kernel.http import problem_exception_handler
from fabrikit.modules.types_registry import TypesRegistry
from fabrikit.modules.types_registry.api.routes import build_router
from tests.support.gateway import AUTH, gateway

URL = "/types-registry/v1/entities"
JSON = {**AUTH, "content-type": "application/json"}
DRAFT7 = "http://json-schema.org/draft-07/schema#"
T_WIDGET = "gts.acme.pkg.ns.widget.v1~"
T_GADGET = "gts.acme.pkg.other.gadget.v1~"
T_THING = "gts.beta.tools.ns.thing.v1~"
I_WIDGET = T_WIDGET + "acme.pkg.ns.w1.v1"
I_THING = T_THING + "acme.pkg.ns.t2.v1"


def schema(gts_id: str) -> dict[str, Any]:
    return {"$id": "gts://" + gts_id, "$schema": DRAFT7, "type": "object"}


async def _seed(http: httpx.AsyncClient) -> None:
    body = {
        "entities": [
            schema(T_WIDGET),
            schema(T_GADGET),
            schema(T_THING),
            {"id": I_WIDGET, "name": "w"},
            {"id": I_THING, "name": "t"},
        ]
    }
    r = await http.post(URL, content=json.dumps(body), headers=JSON)
    assert r.status_code == 200, r.text
    assert r.json()["summary"] == {"total": 5, "succeeded": 5, "failed": 0}


def _problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code
    return body


async def test_bad_bodies_are_400_invalid_request() -> None:
    async with gateway([]) as h:
        for raw in (
            b"{bad",
            b"",
            b"   ",
            b"{}",
            b'{"other": []}',
            b'{"entities": {}}',
            b'{"entities": "x"}',
            b"[]",
            b"3",
        ):
            r = await h.http.post(URL, content=raw, headers=JSON)
            _problem(r, 400, "invalid_request")
        empty = await h.http.post(URL, content=b'{"entities": []}', headers=JSON)
        assert empty.status_code == 200
        assert empty.json() == {"summary": {"total": 0, "succeeded": 0, "failed": 0}, "results": []}


async def test_batch_over_max_batch_size_is_400() -> None:
    async with gateway([], module_configs={"types-registry": {"max_batch_size": 2}}) as h:
        three = {"entities": [schema(T_WIDGET), schema(T_GADGET), schema(T_THING)]}
        r = await h.http.post(URL, content=json.dumps(three), headers=JSON)
        body = _problem(r, 400, "invalid_request")
        assert "2" in body["detail"]


async def test_bad_content_type_is_415() -> None:
    async with gateway([]) as h:
        for ct in ("text/plain", "application/xml", "multipart/form-data"):
            r = await h.http.post(URL, content=b'{"entities": []}', headers={**AUTH, "content-type": ct})
            _problem(r, 415, "unsupported_media_type")
        r = await h.http.post(
            URL,
            content=b'{"entities": []}',
            headers={**JSON, "content-type": "application/json; charset=utf-8"},
        )
        assert r.status_code == 200


async def test_other_methods_are_405_with_allow() -> None:
    async with gateway([]) as h:
        for method in ("DELETE", "PUT", "PATCH"):
            r = await h.http.request(method, URL, headers=AUTH)
            _problem(r, 405, "method_not_allowed")
            allowed = {m.strip() for m in r.headers["allow"].split(",")}
            assert {"GET", "POST"} <= allowed
            assert method not in allowed
        r = await h.http.delete(f"{URL}/{T_WIDGET}", headers=AUTH)
        _problem(r, 405, "method_not_allowed")
        assert "GET" in r.headers["allow"]


async def test_get_by_id_returns_the_entity_and_404_for_unknown_or_malformed_ids() -> None:
    async with gateway([]) as h:
        await _seed(h.http)
        r = await h.http.get(f"{URL}/{T_WIDGET}", headers=AUTH)
        assert r.status_code == 200
        entity = r.json()
        assert entity["gts_id"] == T_WIDGET
        assert entity["is_schema"] is True
        assert entity["content"] == schema(T_WIDGET)
        assert entity["segments"][0]["vendor"] == "acme"
        again = await h.http.get(f"{URL}/{T_WIDGET}", headers=AUTH)
        assert again.json()["id"] == entity["id"]  # stable id
        inst = (await h.http.get(f"{URL}/{I_WIDGET}", headers=AUTH)).json()
        assert inst["is_schema"] is False
        assert len(inst["segments"]) == 2
        for unknown in ("gts.acme.pkg.ns.nothing.v1~", "not-a-gts-id", "gts..bad~~", "%20"):
            r = await h.http.get(f"{URL}/{unknown}", headers=AUTH)
            _problem(r, 404, "TYPES_REGISTRY_NOT_FOUND")


async def _ids(http: httpx.AsyncClient, **params: str) -> list[str]:
    r = await http.get(URL, params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["entities"])
    return [e["gts_id"] for e in body["entities"]]


async def test_list_filters_via_query() -> None:
    async with gateway([]) as h:
        await _seed(h.http)
        everything = await _ids(h.http)
        assert {T_WIDGET, T_GADGET, T_THING, I_WIDGET, I_THING} <= set(everything)
        assert everything == sorted(everything)
        assert await _ids(h.http, pattern="gts.acme.*") == sorted([T_GADGET, T_WIDGET, I_WIDGET])
        assert await _ids(h.http, pattern="gts.acme.*", is_schema="true") == sorted([T_GADGET, T_WIDGET])
        assert await _ids(h.http, pattern="gts.acme.*", is_schema="false") == [I_WIDGET]
        assert await _ids(h.http, vendor="beta") == sorted([T_THING, I_THING])
        assert await _ids(h.http, vendor="acme", namespace="other") == [T_GADGET]
        assert await _ids(h.http, package="tools") == sorted([T_THING, I_THING])
        primary = await _ids(h.http, vendor="acme", segment_scope="primary")
        anywhere = await _ids(h.http, vendor="acme", segment_scope="any")
        assert I_THING not in primary
        assert I_THING in anywhere
        assert await _ids(h.http, vendor="nobody") == []


async def test_list_bad_parameters_are_400() -> None:
    async with gateway([]) as h:
        for pattern in ("bad*pat", "gts.", "acme.*"):
            r = await h.http.get(URL, params={"pattern": pattern}, headers=AUTH)
            _problem(r, 400, "TYPES_REGISTRY_INVALID_GTS_ID")
        for params in (
            {"is_schema": "yes"},
            {"is_schema": "1"},
            {"is_schema": "True"},
            {"segment_scope": "all"},
        ):
            r = await h.http.get(URL, params=params, headers=AUTH)
            _problem(r, 400, "invalid_request")


async def test_requires_authentication() -> None:
    async with gateway([]) as h:
        for method in ("GET", "POST"):
            r = await h.http.request(method, URL, headers={"content-type": "application/json"}, content=b"{}")
            _problem(r, 401, "unauthenticated")


async def test_all_three_are_503_before_ready() -> None:
    registry = TypesRegistry()  # never activated: still staging
    app = Litestar(
        route_handlers=[build_router(registry, 1000)],
        exception_handlers={Exception: problem_exception_handler},
    )
    async with AsyncTestClient(app) as client:
        responses = [
            await client.post(URL, content=b'{"entities": []}', headers={"content-type": "application/json"}),
            await client.get(URL),
            await client.get(f"{URL}/{T_WIDGET}"),
        ]
    for r in responses:
        _problem(r, 503, "TYPES_REGISTRY_NOT_READY")
