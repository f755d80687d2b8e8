"""Test modules and a harness helper for end-to-end tests of the REST host (real uvicorn, httpx).

``gateway(modules=[...], gw={...}, authn={...})`` starts types-registry, authn-resolver (with static-authn) and
api-gateway on a free loopback port plus the given test modules; ``h.http`` talks to the real server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from uuid import uuid4

import msgspec
from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import ServerSentEvent

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext
from fabrikit.kernel.errors import NotFound
from fabrikit.kernel.http import SECURITY_SCOPE_KEY, RateLimit, RestHost, RestRegistrar, authenticated, public
from fabrikit.kernel.security import SecurityContext
from fabrikit.kernel.testing import RuntimeHarness
from fabrikit.modules.api_gateway.module import ApiGateway
from fabrikit.modules.authn_resolver.module import AuthnResolver
from fabrikit.modules.module_orchestrator.module import ModuleOrchestrator
from fabrikit.modules.types_registry.module import TypesRegistryModule
from fabrikit.plugins.static_authn.plugin import DEFINITION as STATIC_AUTHN

TOKEN = "Bearer test-token"
AUTH = {"Authorization": TOKEN}


def security_of(request: Request[Any, Any, Any]) -> SecurityContext:
    ctx = request.scope.get(SECURITY_SCOPE_KEY)
    assert isinstance(ctx, SecurityContext)
    return ctx


class Item(msgspec.Struct):
    name: str
    count: int


class NoteIn(msgspec.Struct):
    text: str


class GwTest(Module):
    """Routes that exercise each step of the middleware chain."""

    manifest = Manifest("gw-test", "0.1.0", capabilities={Capability.REST})

    def __init__(self) -> None:
        self.host: RestHost | None = None
        self.busy_release = asyncio.Event()
        self.busy_entered = asyncio.Event()
        self.stream_finally_ran = False
        self.stream_cancelled = False
        self.notes: dict[str, tuple[str, str]] = {}

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        module = self
        hub = ctx.hub

        @get("/ping", opt=public("gw_test.ping"))
        async def ping() -> dict[str, Any]:
            return {"ok": True}

        @get("/items/{item_id:str}", opt=public("gw_test.item"))
        async def item(item_id: FromPath[str]) -> dict[str, Any]:
            return {"id": item_id}

        @get("/whoami", opt=authenticated("gw_test.whoami"))
        async def whoami(request: Request[Any, Any, Any]) -> dict[str, Any]:
            sec = security_of(request)
            return {
                "subject_id": str(sec.subject_id),
                "tenant_id": str(sec.subject_tenant_id),
                "scopes": list(sec.token_scopes),
                "has_token": sec.bearer_token is not None,
                "anonymous": sec.is_anonymous,
            }

        @get("/whoami/{item_id:str}", opt=authenticated("gw_test.whoami_item"))
        async def whoami_item(item_id: FromPath[str], request: Request[Any, Any, Any]) -> dict[str, Any]:
            return {"id": item_id, "tenant_id": str(security_of(request).subject_tenant_id)}

        @get("/scoped", opt=authenticated("gw_test.scoped", scopes=("gw:read",)))
        async def scoped() -> dict[str, Any]:
            return {"ok": True}

        @post(
            "/limited",
            status_code=200,
            opt=authenticated(
                "gw_test.limited", rate_limit=RateLimit(1, 1, 10), allowed_content_types=("application/json",)
            ),
        )
        async def limited(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
            return {"ok": True}

        @post(
            "/small",
            status_code=200,
            opt=authenticated(
                "gw_test.small", body_limit_bytes=10, allowed_content_types=("application/json",)
            ),
        )
        async def small(request: Request[Any, Any, Any]) -> dict[str, Any]:
            return {"size": len(await request.body())}

        @post("/upload", status_code=200, opt=authenticated("gw_test.upload"))
        async def upload(request: Request[Any, Any, Any]) -> dict[str, Any]:
            return {"size": len(await request.body())}

        @post("/items", status_code=200, opt=authenticated("gw_test.create_item"))
        async def create_item(data: JSONBody[Item]) -> dict[str, Any]:
            return {"name": data.name, "count": data.count}

        @get("/slow", opt=authenticated("gw_test.slow"))
        async def slow() -> dict[str, Any]:
            await asyncio.sleep(30)
            return {"ok": True}

        @get("/slow-short", opt=authenticated("gw_test.slow_short", timeout_s=0.2))
        async def slow_short() -> dict[str, Any]:
            await asyncio.sleep(30)
            return {"ok": True}

        @get("/unhurried", opt=authenticated("gw_test.unhurried", timeout_s=0))
        async def unhurried(seconds: FromQuery[float] = 0.5) -> dict[str, Any]:
            await asyncio.sleep(seconds)
            return {"slept": seconds}

        @get("/boom", opt=authenticated("gw_test.boom"))
        async def boom() -> dict[str, Any]:
            raise RuntimeError("kaboom with a secret s3cr3t")

        @get("/busy", opt=authenticated("gw_test.busy", rate_limit=RateLimit(100, 100, 1)))
        async def busy() -> dict[str, Any]:
            module.busy_entered.set()
            await module.busy_release.wait()
            return {"ok": True}

        @get("/stream", opt=authenticated("gw_test.stream", rate_limit=RateLimit(100, 100, 100)))
        async def stream(ticks: FromQuery[int] = 5, interval: FromQuery[float] = 0.1) -> ServerSentEvent:
            host = hub.get(RestHost)  # type: ignore[type-abstract]

            async def events() -> AsyncIterator[str]:
                try:
                    for i in range(ticks):
                        if host.shutting_down.is_set():
                            break
                        yield f"tick {i}"
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(host.shutting_down.wait(), interval)
                    yield "done" if not host.shutting_down.is_set() else "shutdown"
                except asyncio.CancelledError:
                    module.stream_cancelled = True
                    raise
                finally:
                    module.stream_finally_ran = True

            return ServerSentEvent(events())

        @get("/stubborn", opt=authenticated("gw_test.stubborn", rate_limit=RateLimit(100, 100, 100)))
        async def stubborn() -> ServerSentEvent:
            """A stream that ignores the drain signal: the host must cancel it after drain_timeout_s."""

            async def events() -> AsyncIterator[str]:
                try:
                    yield "first"
                    await asyncio.sleep(60)
                    yield "never"
                except asyncio.CancelledError:
                    module.stream_cancelled = True
                    raise
                finally:
                    module.stream_finally_ran = True

            return ServerSentEvent(events())

        @post("/notes", status_code=201, opt=authenticated("gw_test.create_note"))
        async def create_note(data: JSONBody[NoteIn], request: Request[Any, Any, Any]) -> dict[str, Any]:
            note_id = str(uuid4())
            module.notes[note_id] = (str(security_of(request).subject_tenant_id), data.text)
            return {"id": note_id}

        @get("/notes/{note_id:str}", opt=authenticated("gw_test.get_note"))
        async def get_note(note_id: FromPath[str], request: Request[Any, Any, Any]) -> dict[str, Any]:
            tenant = str(security_of(request).subject_tenant_id)
            found = module.notes.get(note_id)
            if found is None or found[0] != tenant:  # another tenant's note does not exist for this caller
                raise NoteNotFound(f"note '{note_id}' not found")
            return {"id": note_id, "text": found[1]}

        rest.include(
            Router(
                "/gw-test/v1",
                route_handlers=[
                    ping,
                    item,
                    whoami,
                    whoami_item,
                    scoped,
                    limited,
                    small,
                    upload,
                    create_item,
                    slow,
                    slow_short,
                    unhurried,
                    boom,
                    busy,
                    stream,
                    stubborn,
                    create_note,
                    get_note,
                ],
            ),
            module=ctx.name,
        )


class NoteNotFound(NotFound):
    code, status, title = "note_not_found", 404, "Note not found"


class UsersAndCities(Module):
    """Paths of the P-6.7 scope-rule checklist."""

    manifest = Manifest("users-info", "0.1.0", capabilities={Capability.REST})

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        @get("/users-info/v1/users", opt=authenticated("users_info.list"))
        async def users() -> list[str]:
            return ["u1"]

        @get("/users-info/v1/users/{user_id:str}", opt=authenticated("users_info.get"))
        async def user(user_id: FromPath[str]) -> dict[str, str]:
            return {"id": user_id}

        @get("/users-info/v1/users/{user_id:str}/roles", opt=authenticated("users_info.roles"))
        async def roles(user_id: FromPath[str]) -> list[str]:
            return ["admin"]

        @get("/cities", opt=authenticated("users_info.cities"))
        async def cities() -> list[str]:
            return ["Paris"]

        @get("/open", opt=authenticated("users_info.open"))
        async def open_route() -> list[str]:
            return []

        @get("/public-ruled", opt=public("users_info.public_ruled"))
        async def public_ruled() -> list[str]:
            return []

        rest.include([users, user, roles, cities, open_route, public_ruled], module=ctx.name)


class CrashLater(Module):
    """Stateful module whose background task fails when the test says so (readiness and orchestrator)."""

    manifest = Manifest("crash-later", "0.1.0", capabilities={Capability.STATEFUL})

    def __init__(self) -> None:
        self.trigger = asyncio.Event()

    async def start(self, ctx: ModuleContext) -> None:
        async def work() -> None:
            await self.trigger.wait()
            raise RuntimeError("background task crashed")

        ctx.spawn("work", work)

    async def stop(self, ctx: ModuleContext) -> None:
        return None


def gateway_config(
    gw: Mapping[str, Any] | None = None,
    authn: Mapping[str, Any] | None = None,
    extra_modules: Mapping[str, Any] | None = None,
    plugins: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    modules: dict[str, Any] = {
        "api-gateway": {"config": {"bind_addr": "127.0.0.1:0", **(gw or {})}},
        "types-registry": None,
        "authn-resolver": None,
        **(extra_modules or {}),
    }
    plugin_cfg: dict[str, Any] = {"static-authn": {"config": dict(authn or {})}}
    plugin_cfg.update(plugins or {})
    return {"modules": modules, "plugins": plugin_cfg, "logging": {"level": "warning"}}


def gateway(
    modules: Sequence[type[Module]] = (GwTest,),
    *,
    gw: Mapping[str, Any] | None = None,
    authn: Mapping[str, Any] | None = None,
    plugins: Mapping[str, Any] | None = None,
    enable: Sequence[str] = (),
    home: str | None = None,
    module_configs: Mapping[str, Any] | None = None,
) -> RuntimeHarness:
    """A harness with the gateway, authn and the given test modules all enabled.

    ``module_configs`` maps a module name to its ``config`` block (e.g. ``{"types-registry": {...}}``).
    """
    extra: dict[str, Any] = {m.manifest.name: None for m in modules}
    extra.update({name: None for name in enable})
    extra.update({name: {"config": dict(cfg)} for name, cfg in (module_configs or {}).items()})
    config = gateway_config(gw, authn, extra, plugins)
    return RuntimeHarness(
        modules=[TypesRegistryModule, AuthnResolver, ApiGateway, ModuleOrchestrator, *modules],
        plugins=[STATIC_AUTHN],
        config=config,
        home=home,
    )


def module_instance(h: RuntimeHarness, name: str) -> Any:
    return h.runtime.modules[name]
