"""module-orchestrator: a read-only view of this process's modules (P-7)."""

from __future__ import annotations

from typing import Any

from litestar import Router, get

from fabrikit.kernel import Capability, Manifest, Module, ModuleContext, RuntimeView, hookimpl
from fabrikit.kernel.http import RestRegistrar, authenticated

from .sdk import instance_state


def modules_document(view: RuntimeView) -> list[dict[str, Any]]:
    plugins_by_host: dict[str, list[dict[str, Any]]] = {}
    for p in view.plugins():
        if p.active:
            plugins_by_host.setdefault(p.host, []).append(
                {"gts_id": p.instance_id, "vendor": p.vendor, "priority": p.priority}
            )
    items = []
    for rec in sorted(view.modules(), key=lambda r: r.name):
        item: dict[str, Any] = {"name": rec.name}
        if rec.version:
            item["version"] = rec.version
        item["capabilities"] = sorted(c.value for c in rec.capabilities)
        item["dependencies"] = list(rec.deps)
        item["optional_dependencies"] = list(rec.optional_deps)
        item["deployment_mode"] = "compiled_in"
        item["instances"] = [
            {
                "instance_id": view.instance_id,
                "version": rec.version,
                "state": instance_state(rec.state),
                "grpc_services": {},
            }
        ]
        if plugins_by_host.get(rec.name):
            item["plugins"] = sorted(plugins_by_host[rec.name], key=lambda p: p["gts_id"])
        items.append(item)
    return items


class ModuleOrchestrator(Module):
    manifest = Manifest(
        "module-orchestrator",
        "0.1.0",
        capabilities={Capability.SYSTEM, Capability.REST},
        description="Lists this process's modules with state, version, deps and capabilities",
    )

    def register_rest(self, ctx: ModuleContext, rest: RestRegistrar) -> None:
        view = ctx.runtime

        @get("/modules", opt=authenticated("module_orchestrator.list_modules"))
        async def list_modules() -> list[dict[str, Any]]:
            """Enabled modules of this process, sorted by name."""
            return modules_document(view)

        rest.include(Router("/module-orchestrator/v1", route_handlers=[list_modules]), module=ctx.name)


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [ModuleOrchestrator]
