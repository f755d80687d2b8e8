"""Builders for runtime tests: modules that record what the runtime asks of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, Runtime, SystemContext
from fabrikit.kernel.testing import make_config

Step = Callable[[ModuleContext], Awaitable[None]]
STATEFUL = Capability.STATEFUL


def module(
    name: str,
    log: list[str],
    *,
    deps: Iterable[str] = (),
    caps: Iterable[Capability | str] = (STATEFUL,),
    init: Step | None = None,
    start: Step | None = None,
    stop: Step | None = None,
    **manifest: Any,
) -> type[Module]:
    """A module class that appends ``<phase>:<name>`` to ``log`` and then runs the optional step."""
    capabilities = frozenset(Capability.parse(c) for c in caps)

    async def _init(self: Module, ctx: ModuleContext) -> None:
        log.append(f"init:{name}")
        if init is not None:
            await init(ctx)

    async def _start(self: Module, ctx: ModuleContext) -> None:
        log.append(f"start:{name}")
        if start is not None:
            await start(ctx)

    async def _stop(self: Module, ctx: ModuleContext) -> None:
        log.append(f"stop:{name}")
        if stop is not None:
            await stop(ctx)

    def _pre_init(self: Module, sys: SystemContext) -> None:
        log.append(f"pre_init:{name}")

    async def _post_init(self: Module, sys: SystemContext) -> None:
        log.append(f"post_init:{name}")

    def _migrations(self: Module) -> list[Any]:
        log.append(f"db:{name}")
        return []

    def _rest_prepare(self: Module, ctx: ModuleContext) -> Any:
        log.append(f"rest_prepare:{name}")
        return {"routes": []}

    def _register_rest(self: Module, ctx: ModuleContext, rest: Any) -> None:
        log.append(f"register_rest:{name}")

    def _rest_finalize(self: Module, ctx: ModuleContext, rest: Any) -> None:
        log.append(f"rest_finalize:{name}")

    ns: dict[str, Any] = {
        "manifest": Manifest(name, deps=tuple(deps), capabilities=capabilities, **manifest),
        "init": _init,
    }
    if STATEFUL in capabilities:
        ns.update(start=_start, stop=_stop)
    if Capability.SYSTEM in capabilities:
        ns.update(pre_init=_pre_init, post_init=_post_init)
    if Capability.DB in capabilities:
        ns.update(migrations=_migrations)
    if Capability.REST in capabilities:
        ns.update(register_rest=_register_rest)
    if Capability.REST_HOST in capabilities:
        ns.update(rest_prepare=_rest_prepare, rest_finalize=_rest_finalize)
    return type(f"Mod_{name.replace('-', '_')}", (Module,), ns)


def runtime(
    home: Path,
    modules: Iterable[Any],
    raw: Mapping[str, Any] | None = None,
    *,
    clients: Mapping[type, Any] | None = None,
) -> Runtime:
    """A Runtime without entry points; every given module class is enabled unless ``raw`` lists modules."""
    mods = list(modules)
    data = dict(raw or {})
    classes: list[type[Module]] = [m for m in mods if isinstance(m, type) and issubclass(m, Module)]
    data.setdefault("modules", {m.manifest.name: None for m in classes})
    return Runtime(make_config(data, home=home), load_entry_points=False, extra=mods, clients=clients)


async def sleep_forever(ctx: ModuleContext) -> None:
    await asyncio.Event().wait()


async def settle(predicate: Callable[[], bool], rounds: int = 200) -> bool:
    """Yields to the loop until ``predicate`` holds (bounded by rounds, not by time)."""
    for _ in range(rounds):
        if predicate():
            return True
        await asyncio.sleep(0)
    return predicate()
