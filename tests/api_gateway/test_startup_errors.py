"""Startup failures of the REST host (P-6.1.2, P-6.2, P-6.6.3, P-6.7.1): each names its cause."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from litestar import get

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, StartupError
from fabrikit.kernel.http import RestRegistrar, public
from tests.support.gateway import GwTest, gateway


class DupRoute(Module):
    """Declares GET /gw-test/v1/ping, which gw-test already serves."""

    manifest = Manifest("dup-route", "0.1.0", capabilities={Capability.REST})

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        @get("/gw-test/v1/ping", opt=public("dup_route.ping"))
        async def ping() -> dict[str, Any]:
            return {}

        rest.include(ping, module=ctx.name)


class DupOperation(Module):
    """Reuses gw-test's operation id on a new path."""

    manifest = Manifest("dup-operation", "0.1.0", capabilities={Capability.REST})

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        @get("/dup-operation/v1/ping", opt=public("gw_test.ping"))
        async def ping() -> dict[str, Any]:
            return {}

        rest.include(ping, module=ctx.name)


async def _startup_error(**kwargs: Any) -> str:
    # own temporary home: the harness cannot clean up its own when startup fails inside __aenter__
    with tempfile.TemporaryDirectory() as home, pytest.raises(StartupError) as info:
        async with gateway(**kwargs, home=home):
            pass
    return str(info.value)


async def test_duplicate_route_names_both_modules() -> None:
    text = await _startup_error(modules=[GwTest, DupRoute])
    assert "duplicate route GET /gw-test/v1/ping" in text
    assert "'gw-test'" in text
    assert "'dup-route'" in text


async def test_duplicate_operation_id_names_both_modules() -> None:
    text = await _startup_error(modules=[GwTest, DupOperation])
    assert "duplicate operation id 'gw_test.ping'" in text
    assert "'gw-test'" in text
    assert "'dup-operation'" in text


@pytest.mark.parametrize("prefix", ["/api/../x", "/a/./b", "/api v1", "/api?x", "/café"])
async def test_bad_prefix_path(prefix: str) -> None:
    text = await _startup_error(gw={"prefix_path": prefix})
    assert "prefix_path" in text


async def test_auth_disabled_with_route_policies() -> None:
    policies = {"enabled": True, "rules": [{"path": "/x", "required_scopes": ["a"]}]}
    text = await _startup_error(gw={"auth_disabled": True, "route_policies": policies})
    assert "auth_disabled" in text
    assert "route_policies" in text


async def test_credentials_with_wildcard_origin() -> None:
    text = await _startup_error(gw={"cors_enabled": True, "cors": {"allow_credentials": True}})
    assert "allow_credentials" in text


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ({"path": "/x", "required_scopes": []}, "required scope"),
        ({"path": "/a**b", "required_scopes": ["s"]}, "**"),
        ({"path": "no-slash", "required_scopes": ["s"]}, "must start with '/'"),
    ],
)
async def test_bad_route_rules(rule: dict[str, Any], needle: str) -> None:
    text = await _startup_error(gw={"route_policies": {"enabled": True, "rules": [rule]}})
    assert needle in text


async def test_bind_failure_fails_start() -> None:
    async with gateway() as first:
        port = first.base_url.rsplit(":", 1)[1]
        text = await _startup_error(gw={"bind_addr": f"127.0.0.1:{port}"})
        assert "bind" in text
