"""Builds the one Litestar application from every module's routes (P-6)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from fabrikit.kernel.http import RestRegistrar, problem_exception_handler
from fabrikit.modules.authn_resolver.sdk import AuthnResolverClient

from ..domain.scopes import compile_rules
from .inner import OperationMiddleware
from .openapi import finish_openapi
from .outer import OuterMiddleware
from .state import INTERNAL_SCHEMA_PATH, GatewayState, encode


def build_app(
    registrar: RestRegistrar, state: GatewayState, authn: AuthnResolverClient | None
) -> tuple[Any, dict]:
    cfg = state.cfg
    handlers = [item for _, item in registrar.routers]
    root = Router(path=state.prefix or "/", route_handlers=handlers) if state.prefix else None
    rules = (
        compile_rules([(r.path, r.method, r.required_scopes) for r in cfg.route_policies.rules])
        if cfg.route_policies.enabled
        else []
    )
    app = Litestar(
        route_handlers=[root] if root is not None else handlers,
        exception_handlers={Exception: problem_exception_handler},
        middleware=[DefineMiddleware(OperationMiddleware, state=state, authn=authn, rules=rules)],  # type: ignore[arg-type]
        openapi_config=OpenAPIConfig(
            title=cfg.openapi.title,
            version=cfg.openapi.version,
            description=cfg.openapi.description,
            path=INTERNAL_SCHEMA_PATH,
            render_plugins=[],
        ),
        logging_config=None,
        debug=False,
    )
    document = finish_openapi(app.openapi_schema.to_schema(), registrar.routes, state.prefix, cfg.defaults)
    state.openapi_json = encode(document)
    return OuterMiddleware(app, state), document  # type: ignore[arg-type]
