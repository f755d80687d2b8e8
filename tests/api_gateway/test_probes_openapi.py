"""Built-in endpoints (P-6.4, K-19.2): probes at root and under the prefix, readiness, OpenAPI."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from tests.support.gateway import CrashLater, GwTest, gateway, module_instance

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_probes_answer_at_root_and_under_the_prefix_and_are_not_rate_limited() -> None:
    async with gateway(
        gw={"prefix_path": "/api", "defaults": {"rate_limit": {"rps": 1, "burst": 1, "in_flight": 1}}}
    ) as h:
        for base in ("", "/api"):
            for _ in range(3):  # burst 1 would limit a third call to a rated route
                hz = await h.http.get(base + "/healthz")
                assert hz.status_code == 200
                assert hz.text == "ok"
                assert hz.headers["content-type"].startswith("text/plain")
                assert "ratelimit-limit" not in hz.headers
            health = await h.http.get(base + "/health")
            assert health.status_code == 200
            body = health.json()
            assert body["status"] == "healthy"
            assert TIMESTAMP.match(body["timestamp"]), body
            datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
            ready = await h.http.get(base + "/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"status": "ready"}
            assert ready.headers["content-type"] == "application/json"
            assert ready.headers["x-request-id"]


async def test_readyz_is_503_when_a_module_failed() -> None:
    async with gateway([GwTest, CrashLater]) as h:
        assert (await h.http.get("/readyz")).status_code == 200
        module_instance(h, "crash-later").trigger.set()
        for _ in range(100):
            r = await h.http.get("/readyz")
            if r.status_code == 503:
                break
            await asyncio.sleep(0.01)
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/json"  # a probe body, not a problem
        assert r.json() == {"status": "not_ready", "modules": {"crash-later": "failed"}}
        assert "crashed" not in r.text  # no error texts
        assert (await h.http.get("/healthz")).status_code == 200  # liveness ignores modules


async def test_openapi_needs_enable_docs() -> None:
    async with gateway() as h:
        assert (await h.http.get("/openapi.json")).status_code == 404
        assert (await h.http.get("/docs")).status_code == 404
        for path in (
            "/schema",
            "/schema/openapi.json",
            "/schema/swagger",
            "/_fabrikit_internal_schema/openapi.json",
        ):
            r = await h.http.get(path)
            assert r.status_code == 404, path
            assert r.json()["code"] == "not_found"


async def test_openapi_document() -> None:
    async with gateway(
        gw={"enable_docs": True, "prefix_path": "/api", "openapi": {"title": "T", "version": "9.9"}}
    ) as h:
        assert (await h.http.get("/openapi.json")).status_code == 404  # served under the prefix only
        r = await h.http.get("/api/openapi.json")
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        doc = r.json()
        assert doc["openapi"].startswith("3.1")
        assert doc["info"]["title"] == "T"
        assert doc["info"]["version"] == "9.9"
        assert doc["servers"] == [{"url": "/api"}]
        assert doc["components"]["securitySchemes"]["bearerAuth"] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }
        paths = doc["paths"]
        assert "/gw-test/v1/whoami" in paths
        assert not [p for p in paths if p.startswith("/api/")]  # unprefixed paths
        whoami = paths["/gw-test/v1/whoami"]["get"]
        assert whoami["operationId"] == "gw_test.whoami"
        assert whoami["security"] == [{"bearerAuth": []}]
        assert (whoami["x-rate-limit-rps"], whoami["x-rate-limit-burst"], whoami["x-in-flight-limit"]) == (
            50,
            100,
            64,
        )
        for status in ("400", "401", "403", "404", "409", "422", "429", "500"):
            assert "application/problem+json" in whoami["responses"][status]["content"], status
        limited = paths["/gw-test/v1/limited"]["post"]
        assert (limited["x-rate-limit-rps"], limited["x-rate-limit-burst"], limited["x-in-flight-limit"]) == (
            1,
            1,
            10,
        )
        ping = paths["/gw-test/v1/ping"]["get"]
        assert "security" not in ping
        item_path = next(p for p in paths if p.startswith("/gw-test/v1/items/"))
        assert item_path == "/gw-test/v1/items/{item_id}"
        assert paths["/gw-test/v1/items"]["post"]["requestBody"]["content"]["application/json"]["schema"], (
            "request schema from the msgspec type"
        )
        docs = await h.http.get("/api/docs")
        assert docs.status_code == 200
        assert "/api/openapi.json" in docs.text
