"""The OpenAPI document served at ``<prefix>/openapi.json`` (P-6.4.2)."""

from __future__ import annotations

from typing import Any

from fabrikit.kernel.http import RouteInfo

_PROBLEM_STATUSES = ("400", "401", "403", "404", "409", "422", "429", "500")
_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "code", "trace_id"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "trace_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
}


def finish_openapi(
    schema: dict[str, Any], routes: dict[tuple[str, str], RouteInfo], prefix: str, defaults: Any
) -> dict[str, Any]:
    """Adds servers, bearerAuth, rate-limit extensions and problem responses to Litestar's document."""
    schema["servers"] = [{"url": prefix or "/"}]
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    components.setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
    by_key: dict[tuple[str, str], RouteInfo] = {}
    for info in routes.values():
        by_key[(info.method.lower(), _template(info.path))] = info
    paths: dict[str, Any] = {}
    for path, item in schema.get("paths", {}).items():
        unprefixed = path[len(prefix) :] if prefix and path.startswith(prefix) else path
        for method, op in item.items():
            if not isinstance(op, dict) or method not in {"get", "post", "put", "patch", "delete"}:
                continue
            route = by_key.get((method, _template(unprefixed)))
            if route is None:
                continue
            o = route.operation
            op["operationId"] = o.operation_id
            if o.auth == "authenticated":
                op["security"] = [{"bearerAuth": []}]
            rl = o.rate_limit or defaults.rate_limit
            op["x-rate-limit-rps"] = rl.rps
            op["x-rate-limit-burst"] = rl.burst
            op["x-in-flight-limit"] = rl.in_flight
            responses = op.setdefault("responses", {})
            for status in _PROBLEM_STATUSES:
                if status == "401" and o.auth == "public":
                    continue
                responses.setdefault(
                    status,
                    {
                        "description": "Problem details (RFC 9457)",
                        "content": {
                            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                        },
                    },
                )
        paths[unprefixed or "/"] = item
    schema["paths"] = paths
    return schema


def _template(path: str) -> str:
    """``/a/{id:uuid}`` and ``/a/{id}`` compare equal."""
    out = []
    for seg in path.split("/"):
        out.append("{}" if seg.startswith("{") and seg.endswith("}") else seg)
    return "/".join(out)
