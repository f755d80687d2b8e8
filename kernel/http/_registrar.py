"""Collects every module's routes for the REST host and rejects what would shadow silently (K-18, P-6.1.2)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from litestar import Router
from litestar.handlers import HTTPRouteHandler

from ._operation import OPERATION_KEY, Operation, operation_of

_log = structlog.get_logger("fabrikit.http")
_PARAM_RE = re.compile(r"\{[^}]*\}")


class RouteError(RuntimeError):
    pass


@dataclass(frozen=True)
class RouteInfo:
    module: str
    method: str
    path: str
    operation: Operation


class RestRegistrar:
    """What ``register_rest(ctx, rest)`` receives. ``include`` validates and remembers the routes."""

    def __init__(self, *, require_auth_by_default: bool = True) -> None:
        self.require_auth_by_default = require_auth_by_default
        self.routers: list[tuple[str, Any]] = []
        self.routes: dict[tuple[str, str], RouteInfo] = {}
        self._operation_ids: dict[str, str] = {}

    def include(self, router: Router | HTTPRouteHandler | Iterable[Any], *, module: str) -> None:
        items = list(router) if isinstance(router, list | tuple) else [router]
        for item in items:
            for method, path, handler in _walk(item):
                self._check(module, method, path, handler)
            self.routers.append((module, item))

    def _check(self, module: str, method: str, path: str, handler: HTTPRouteHandler) -> None:
        op = operation_of(handler.opt)
        if op is None:
            if self.require_auth_by_default is None:
                raise RouteError(f"route {method} {path} of module '{module}' declares no auth posture")
            op = Operation(
                operation_id=f"{module}.{handler.handler_name}",
                auth="authenticated" if self.require_auth_by_default else "public",
            )
            if not self.require_auth_by_default:
                _log.warning("route_without_operation", module=module, method=method, path=path)
            handler.opt[OPERATION_KEY] = op
        key = (method, _PARAM_RE.sub("{}", path))
        if key in self.routes:
            other = self.routes[key].module
            raise RouteError(
                f"duplicate route {method} {path}: declared by module '{other}' and module '{module}'"
            )
        if op.operation_id in self._operation_ids:
            other = self._operation_ids[op.operation_id]
            raise RouteError(
                f"duplicate operation id '{op.operation_id}': declared by module '{other}' and module '{module}'"
            )
        self.routes[key] = RouteInfo(module, method, path, op)
        self._operation_ids[op.operation_id] = module


def _walk(item: Any, prefix: str = "") -> Iterable[tuple[str, str, HTTPRouteHandler]]:
    if isinstance(item, Router):
        for route in item.routes:
            for handler in getattr(route, "route_handlers", []):
                if isinstance(handler, HTTPRouteHandler):
                    for method in sorted(handler.http_methods):
                        if method != "HEAD" and method != "OPTIONS":
                            yield method, route.path, handler
        return
    if isinstance(item, HTTPRouteHandler):
        for path in sorted(item.paths):
            full = (prefix.rstrip("/") + path) or "/"
            for method in sorted(item.http_methods):
                if method != "HEAD" and method != "OPTIONS":
                    yield method, full, item
        return
    raise RouteError(f"cannot include {item!r}: expected a Litestar Router or route handler")
