"""One function per CLI command; each returns an exit code."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from .. import _config
from .._discovery import OWN_DISTRIBUTION, discover
from .._module import ModuleInfo
from .._resolve import ResolutionError, resolve
from .._runtime import Runtime, build_plan
from ._tables import print_table


def cmd_run(args: argparse.Namespace, config: _config.AppConfig) -> Any:
    async def go() -> int:
        runtime = Runtime(config)
        code = await runtime.run()
        if runtime.last_report is not None and sys.stderr.isatty():
            _print_report(runtime.last_report)
        return code

    return go()


def _print_report(report: dict[str, Any]) -> None:
    rows = [
        [
            m["order"],
            m["name"],
            m["version"],
            m["state"],
            *(f"{m['timings_ms'].get(p, 0):.1f}" for p in ("db", "init", "post_init", "rest", "start")),
        ]
        for m in report["modules"]
    ]
    print_table(
        ["#", "module", "version", "state", "db", "init", "post_init", "rest", "start"], rows, file=sys.stderr
    )


def cmd_check(args: argparse.Namespace, config: _config.AppConfig) -> int:
    plan = build_plan(config)
    problems = [str(i) for i in plan.issues]
    if args.print_config:
        print(json.dumps(_config.redact(config.raw), indent=2, default=str))
    if args.strict and problems:
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    active = sum(1 for p in plan.plugins if p.active)
    print(f"OK: {len(plan.resolution.order)} modules, {active} plugins")
    return 0


def cmd_modules(args: argparse.Namespace, config: _config.AppConfig) -> int:
    found = discover(plugin_config={})
    order: dict[str, int] = {}
    try:
        if config.modules:
            order = {
                n: i
                for i, n in enumerate(
                    resolve([ModuleInfo.from_source(s) for s in found.modules], list(config.modules)).order
                )
            }
    except ResolutionError:
        order = {}
    rows: list[dict[str, Any]] = []
    for src in sorted(found.modules, key=lambda s: (s.name, s.distribution)):
        m = src.manifest
        rows.append(
            {
                "name": m.name,
                "version": m.version,
                "distribution": src.distribution,
                "capabilities": sorted(c.value for c in m.capabilities),
                "deps": list(m.deps),
                "enabled": src.name in order,
                "order": order.get(src.name),
            }
        )
    issues = [vars(i) for i in found.issues]
    if args.json:
        print(json.dumps({"modules": rows, "issues": issues}, indent=2))
        return 0
    print_table(
        ["name", "version", "distribution", "capabilities", "deps", "enabled", "order"],
        [
            [
                r["name"],
                r["version"],
                r["distribution"],
                ",".join(r["capabilities"]),
                ",".join(r["deps"]) or "-",
                "yes" if r["enabled"] else "no",
                "" if r["order"] is None else r["order"],
            ]
            for r in rows
        ],
    )
    for issue in found.issues:
        print(f"issue: {issue}")
    return 0


def cmd_plugins(args: argparse.Namespace, config: _config.AppConfig) -> int:
    try:
        plan = build_plan(config)
        records = plan.plugins
        issues = plan.issues
    except (ResolutionError, _config.ConfigError):
        from .._plugin_host import plugin_records

        found = discover(plugin_config={})
        records = plugin_records(found.plugins, {}, set())
        issues = found.issues
    rows = [
        {
            "name": r.name,
            "host": r.host,
            "spec": r.spec_id,
            "instance_id": r.instance_id,
            "vendor": r.vendor,
            "priority": r.priority,
            "distribution": r.distribution,
            "active": r.active,
            "skip_reason": r.skip_reason,
        }
        for r in records
    ]
    if args.json:
        print(json.dumps({"plugins": rows, "issues": [vars(i) for i in issues]}, indent=2))
        return 0
    print_table(
        ["name", "host", "instance id", "vendor", "priority", "distribution", "status"],
        [
            [
                r["name"],
                r["host"],
                r["instance_id"],
                r["vendor"],
                r["priority"],
                r["distribution"],
                "active" if r["active"] else f"skipped: {r['skip_reason']}",
            ]
            for r in rows
        ],
    )
    for issue in issues:
        print(f"issue: {issue}")
    return 0


TYPES_REGISTRY = "types-registry"


async def cmd_types(args: argparse.Namespace, config: _config.AppConfig) -> int:
    """``fabrikit types``: list what the registry holds (K-19), or export/check ``schemas/`` against the SDKs."""
    check = bool(args.export_check or args.check)
    if check or args.export or args.action == "export":
        return await _types_export(check=check)
    from ..errors import DomainError
    from ..plugins import TypeCatalog

    runtime = Runtime(config)
    await runtime.startup(until="post_init")
    try:
        catalog = runtime.hub.try_get(TypeCatalog)  # type: ignore[type-abstract]
        if catalog is None:
            print(f"error: the {TYPES_REGISTRY} module is not enabled", file=sys.stderr)
            return 1
        try:
            entries = await catalog.list_entries(args.pattern)
        except DomainError as exc:
            print(f"error: {exc.detail}", file=sys.stderr)
            return 1
        rows = [
            {"gts_id": e.gts_id, "kind": "schema" if e.is_schema else "instance", "registered_by": e.module}
            for e in entries
        ]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print_table(
                ["gts id", "kind", "registered by"],
                [[r["gts_id"], r["kind"], r["registered_by"] or "-"] for r in rows],
            )
        return 0
    finally:
        await runtime.close()


async def _types_export(*, check: bool) -> int:
    """Runs every bundled module's init (``schemas/`` loading off) and compares or rewrites ``schemas/``."""
    from ..plugins import TypeCatalog

    found = discover(plugin_config={})
    own = sorted({m.name for m in found.modules if m.distribution == OWN_DISTRIBUTION})
    if TYPES_REGISTRY not in own:
        print(f"error: the {TYPES_REGISTRY} module is not installed", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="fabrikit-types-export-") as home:
        modules: dict[str, Any] = {name: None for name in own}
        modules[TYPES_REGISTRY] = {"config": {"load_bundled_schemas": False}}
        raw = {
            "server": {"home_dir": home},
            "modules": modules,
            # Plugins only add instances; schemas come from the hosts' init.
            "plugins": {p.definition.name: {"enabled": False} for p in found.plugins},
        }
        runtime = Runtime(_config.load_config(None, env={}, default_profile=raw))
        await runtime.startup(until="post_init")
        try:
            catalog = runtime.hub.get(TypeCatalog)  # type: ignore[type-abstract]
            lines = await catalog.export_check(fix=not check)
        finally:
            await runtime.close()
    if check:
        for line in lines:
            print(f"error: {line}", file=sys.stderr)
        if lines:
            return 1
        print("OK: schemas/ matches the SDK models")
        return 0
    for line in lines:
        print(line)
    print(f"schemas/: {len(lines)} file(s) changed" if lines else "schemas/ is up to date")
    return 0


async def cmd_openapi(args: argparse.Namespace, config: _config.AppConfig) -> int:
    from ..http import OpenApiSource

    runtime = Runtime(config)
    await runtime.startup(until="rest")
    try:
        source = runtime.hub.try_get(OpenApiSource)  # type: ignore[type-abstract]
        if source is None:
            print("error: no REST host is enabled", file=sys.stderr)
            return 1
        text = json.dumps(source.openapi_schema(), indent=2)
        if args.output:
            Path(args.output).write_text(text + "\n", encoding="utf-8")  # noqa: ASYNC240 - CLI, nothing else runs
        else:
            print(text)
        return 0
    finally:
        await runtime.close()


async def cmd_migrate(args: argparse.Namespace, config: _config.AppConfig) -> int:
    from .. import db as kdb

    runtime = Runtime(config)
    if args.status:
        plan = build_plan(config)
        runtime._prepare(plan)
        rows = []
        for name in plan.resolution.order:
            if args.module and name not in args.module:
                continue
            migrations = list(runtime.modules[name].migrations())
            if not migrations:
                continue
            settings = runtime.db_settings(name)
            database = await kdb.open_database(name, settings, auto_provision=config.database.auto_provision)
            try:
                for mig, applied_at in await kdb.migration_status(database, name, migrations):
                    rows.append([name, mig, "applied " + str(applied_at) if applied_at else "pending"])
            finally:
                await database.close()
        print_table(["module", "migration", "status"], rows)
        return 0
    try:
        await runtime.startup(until="db")
    finally:
        await runtime.close()
    for rec in runtime.records.values():
        if "db" in rec.timings_ms:
            print(f"{rec.name}: migrations up to date ({rec.timings_ms['db']:.0f} ms)")
    return 0


def cmd_mock_llm(args: argparse.Namespace, config: _config.AppConfig) -> Any:
    """Serves only the mock-llm module (found by entry point like any other) until SIGINT/SIGTERM."""
    found = discover(plugin_config={})
    if not any(m.name == "mock-llm" for m in found.modules):
        print("error: the mock-llm module is not installed", file=sys.stderr)
        return 1
    raw = {
        "server": {"home_dir": str(config.server.home_dir)},
        "modules": {"mock-llm": {"config": {"host": args.host, "port": args.port}}},
    }
    standalone = _config.build_config(raw, source="fabrikit mock-llm")

    async def go() -> int:
        return await Runtime(standalone).run()

    return go()
