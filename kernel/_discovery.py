"""Discovery of modules and plugins through the ``fabrikit`` entry-point group (K-3)."""

from __future__ import annotations

import importlib.metadata as md
import inspect
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pluggy

from . import hookspecs
from ._module import Module, ModuleSource
from .plugins import PluginDef

GROUP = "fabrikit"
OWN_DISTRIBUTION = "fabrikit"


@dataclass(frozen=True)
class DiscoveryIssue:
    distribution: str
    entry_point: str
    kind: str  # load_failed, invalid_hookimpl, unknown_hook, hook_failed, duplicate_entry_point, ...
    message: str

    def __str__(self) -> str:
        where = f"{self.distribution}:{self.entry_point}" if self.entry_point else self.distribution
        return f"{self.kind} in {where}: {self.message}"


@dataclass(frozen=True)
class PluginSource:
    definition: PluginDef
    distribution: str = "<extra>"


@dataclass
class Discovered:
    modules: list[ModuleSource] = field(default_factory=list)
    plugins: list[PluginSource] = field(default_factory=list)
    issues: list[DiscoveryIssue] = field(default_factory=list)

    def module_sources(self, name: str) -> list[ModuleSource]:
        return [m for m in self.modules if m.name == name]


def _distribution_of(ep: md.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else "<unknown>"


def _allowed_distributions(env: Mapping[str, str]) -> set[str] | None:
    raw = env.get("FABRIKIT_LOAD_PLUGINS")
    if raw is None:
        return None
    return {d.strip() for d in raw.split(",") if d.strip()} | {OWN_DISTRIBUTION}


def _new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def discover(
    *,
    load_entry_points: bool = True,
    extra: Sequence[Any] = (),
    plugin_config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    entry_points: Iterable[md.EntryPoint] | None = None,
) -> Discovered:
    """Loads every entry point on its own; a broken one becomes an issue and the rest still load."""
    env = os.environ if env is None else env
    pm = _new_manager()
    out = Discovered()
    origin: dict[str, str] = {}
    if load_entry_points:
        _load_entry_points(pm, out, origin, env, entry_points)
    extra_modules: list[type[Module]] = []
    extra_plugins: list[PluginDef] = []
    for i, obj in enumerate(extra):
        if inspect.isclass(obj) and issubclass(obj, Module):
            extra_modules.append(obj)
        elif isinstance(obj, PluginDef):
            extra_plugins.append(obj)
        else:
            name = f"<extra>:{i}"
            _register(pm, out, obj, name, "<extra>", str(i))
            origin[name] = "<extra>"
    _drop_unknown_hooks(pm, out, origin)
    pm.check_pending()
    _collect(pm, out, origin, MappingProxyType(dict(plugin_config or {})))
    out.modules += [ModuleSource(cls) for cls in extra_modules]
    out.plugins += [PluginSource(d) for d in extra_plugins]
    _report_duplicates(out)
    return out


def _load_entry_points(
    pm: pluggy.PluginManager,
    out: Discovered,
    origin: dict[str, str],
    env: Mapping[str, str],
    entry_points: Iterable[md.EntryPoint] | None,
) -> None:
    allowed = _allowed_distributions(env)
    eps = entry_points if entry_points is not None else md.entry_points(group=GROUP)
    seen: set[str] = set()
    for ep in sorted(eps, key=lambda e: (_distribution_of(e), e.name)):
        dist = _distribution_of(ep)
        if allowed is not None and dist not in allowed:
            continue
        name = f"{dist}:{ep.name}"
        if name in seen:
            out.issues.append(
                DiscoveryIssue(dist, ep.name, "duplicate_entry_point", f"entry point {name} repeated")
            )
            continue
        seen.add(name)
        try:
            obj = ep.load()
        except Exception as exc:  # a broken distribution must not stop the others
            out.issues.append(DiscoveryIssue(dist, ep.name, "load_failed", f"{type(exc).__name__}: {exc}"))
            continue
        if _register(pm, out, obj, name, dist, ep.name):
            origin[name] = dist


def _register(pm: pluggy.PluginManager, out: Discovered, obj: Any, name: str, dist: str, ep: str) -> bool:
    try:
        pm.register(obj, name=name)
        return True
    except Exception as exc:  # PluginValidationError, ValueError for duplicates
        out.issues.append(DiscoveryIssue(dist, ep, "invalid_hookimpl", str(exc)))
        return False


def _drop_unknown_hooks(pm: pluggy.PluginManager, out: Discovered, origin: Mapping[str, str]) -> None:
    for hook_name, caller in list(vars(pm.hook).items()):
        if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            dist, _, ep = impl.plugin_name.partition(":")
            out.issues.append(
                DiscoveryIssue(
                    origin.get(impl.plugin_name, dist), ep, "unknown_hook", f"no hook named {hook_name}"
                )
            )
            if pm.is_registered(impl.plugin):
                pm.unregister(impl.plugin)


def _call_each(
    pm: pluggy.PluginManager, hook_name: str, out: Discovered, origin: Mapping[str, str], **kwargs: Any
):
    """Never ``pm.hook.x()``: one raising implementation must not hide the others (K-3.3)."""
    caller = getattr(pm.hook, hook_name)
    for impl in sorted(caller.get_hookimpls(), key=lambda i: i.plugin_name):
        dist = origin.get(impl.plugin_name, "<unknown>")
        ep = impl.plugin_name.partition(":")[2]
        try:
            yield dist, ep, impl.function(**{a: kwargs[a] for a in impl.argnames})
        except Exception as exc:
            out.issues.append(
                DiscoveryIssue(dist, ep, "hook_failed", f"{hook_name}: {type(exc).__name__}: {exc}")
            )


def _collect(
    pm: pluggy.PluginManager, out: Discovered, origin: Mapping[str, str], plugin_config: Mapping[str, Any]
) -> None:
    for dist, ep, classes in _call_each(pm, "fabrikit_modules", out, origin):
        for cls in classes or ():
            if inspect.isclass(cls) and issubclass(cls, Module) and hasattr(cls, "manifest"):
                out.modules.append(ModuleSource(cls, distribution=dist, entry_point=ep))
            else:
                out.issues.append(
                    DiscoveryIssue(dist, "", "invalid_module", f"{cls!r} is not a Module subclass")
                )
    for impl in sorted(pm.hook.fabrikit_register_plugins.get_hookimpls(), key=lambda i: i.plugin_name):
        dist = origin.get(impl.plugin_name, "<unknown>")
        ep = impl.plugin_name.partition(":")[2]

        def register(defn: PluginDef, _dist: str = dist, _ep: str = ep) -> None:
            if not isinstance(defn, PluginDef):
                raise TypeError(f"register() expects a PluginDef, got {type(defn).__name__}")
            out.plugins.append(PluginSource(defn, _dist))

        try:
            impl.function(**{a: {"register": register, "config": plugin_config}[a] for a in impl.argnames})
        except Exception as exc:
            out.issues.append(
                DiscoveryIssue(
                    dist, ep, "hook_failed", f"fabrikit_register_plugins: {type(exc).__name__}: {exc}"
                )
            )


def _report_duplicates(out: Discovered) -> None:
    by_module: dict[str, list[str]] = {}
    for src in out.modules:
        by_module.setdefault(src.name, []).append(src.distribution)
    for name, dists in sorted(by_module.items()):
        if len(dists) > 1:
            out.issues.append(
                DiscoveryIssue(
                    dists[1], "", "duplicate_module", f"module '{name}' also provided by {dists[0]}"
                )
            )
    by_plugin: dict[str, list[str]] = {}
    for p in out.plugins:
        by_plugin.setdefault(p.definition.name, []).append(p.distribution)
    for name, dists in sorted(by_plugin.items()):
        if len(dists) > 1:
            out.issues.append(
                DiscoveryIssue(
                    dists[1], "", "duplicate_plugin", f"plugin '{name}' also provided by {dists[0]}"
                )
            )
