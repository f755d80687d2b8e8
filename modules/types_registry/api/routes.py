"""REST API of the registry (P-1.5): register, list, get."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery

from fabrikit.kernel.errors import DomainError
from fabrikit.kernel.http import authenticated

from ..domain.errors import NotReady
from ..domain.registry import TypesRegistry
from ..sdk import GtsEntity, ListQuery, RegisterOk, summarize

_OPTS: dict[str, Any] = {"validation_status": 400, "validation_code": "invalid_request"}


class InvalidRequest(DomainError):
    code, status, title = "invalid_request", 400, "Invalid request"


def entity_json(e: GtsEntity) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(e.id),
        "gts_id": e.gts_id,
        "segments": [
            {
                "vendor": s.vendor,
                "package": s.package,
                "namespace": s.namespace,
                "type_name": s.type_name,
                "ver_major": s.ver_major,
                "ver_minor": s.ver_minor,
            }
            for s in e.segments
        ],
        "is_schema": e.is_schema,
        "content": e.content,
    }
    if e.description is not None:
        out["description"] = e.description
    return out


def _parse_bool(name: str, raw: str | None) -> bool | None:
    if raw is None:
        return None
    if raw in ("true", "false"):
        return raw == "true"
    raise InvalidRequest(f"query parameter '{name}' must be 'true' or 'false'")


def build_router(registry: TypesRegistry, max_batch_size: int) -> Router:
    def ready() -> None:
        if not registry.is_ready():
            raise NotReady("the types registry is not ready yet")

    @post(
        "/entities",
        status_code=200,
        opt=authenticated("types_registry.register", allowed_content_types=("application/json",), **_OPTS),
    )
    async def register_entities(request: Request[Any, Any, Any]) -> dict[str, Any]:
        """Registers JSON Schemas and instances; each item gets its own result."""
        ready()
        raw = await request.body()
        if not raw.strip():
            raise InvalidRequest("the request body is empty")
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise InvalidRequest("the request body is not valid JSON") from None
        if not isinstance(body, dict) or "entities" not in body:
            raise InvalidRequest("the body must be an object with an 'entities' array")
        entities = body["entities"]
        if not isinstance(entities, list):
            raise InvalidRequest("'entities' must be an array")
        if len(entities) > max_batch_size:
            raise InvalidRequest(f"at most {max_batch_size} entities per request")
        results = await registry.register(entities)
        summary = summarize(results)
        items = []
        for r in results:
            if isinstance(r, RegisterOk):
                items.append({"status": "ok", "entity": entity_json(r.entity)})
            else:
                item: dict[str, Any] = {"status": "error", "code": r.code, "error": r.error}
                if r.gts_id is not None:
                    item["gts_id"] = r.gts_id
                items.append(item)
        return {
            "summary": {"total": summary.total, "succeeded": summary.succeeded, "failed": summary.failed},
            "results": items,
        }

    @get("/entities", opt=authenticated("types_registry.list", **_OPTS))
    async def list_entities(
        pattern: FromQuery[str | None] = None,
        is_schema: FromQuery[str | None] = None,
        vendor: FromQuery[str | None] = None,
        package: FromQuery[str | None] = None,
        namespace: FromQuery[str | None] = None,
        segment_scope: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Lists entities, filters ANDed; sorted by GTS id."""
        ready()
        if segment_scope not in (None, "primary", "any"):
            raise InvalidRequest("segment_scope must be 'primary' or 'any'")
        query = ListQuery(
            pattern=pattern,
            is_schema=_parse_bool("is_schema", is_schema),
            vendor=vendor,
            package=package,
            namespace=namespace,
            segment_scope=segment_scope or "any",  # type: ignore[arg-type]
        )
        found = await registry.list(query)
        return {"entities": [entity_json(e) for e in found], "count": len(found)}

    @get("/entities/{gts_id:str}", opt=authenticated("types_registry.get", **_OPTS))
    async def get_entity(gts_id: FromPath[str]) -> dict[str, Any]:
        """Gets one entity by id; unknown or malformed ids are 404."""
        ready()
        return entity_json(await registry.get(gts_id))

    return Router("/types-registry/v1", route_handlers=[register_entities, list_entities, get_entity])
