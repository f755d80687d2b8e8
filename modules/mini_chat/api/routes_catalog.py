"""Models (C-15) and quota status (C-16)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath

from fabrikit.kernel.http import authenticated

from ..domain.service_api import Model, ModelList, QuotaStatus
from .deps import Deps, security_of
from .problems import problems


def catalog_handlers(deps: Deps) -> list[Any]:
    service = deps.service

    @get(
        "/models",
        opt=authenticated("mini_chat.models.list"),
        responses=problems(403, 503),
        summary="List models",
    )
    async def list_models(request: Request[Any, Any, Any]) -> ModelList:
        return await service.list_models(security_of(request))

    @get(
        "/models/{model_id:str}",
        opt=authenticated("mini_chat.models.get"),
        responses=problems(403, 404, 503),
        summary="Get a model",
    )
    async def get_model(request: Request[Any, Any, Any], model_id: FromPath[str]) -> Model:
        return await service.get_model(security_of(request), model_id)

    @get(
        "/quota/status",
        opt=authenticated("mini_chat.quota.status"),
        responses=problems(403, 503),
        summary="The caller's credit usage per tier and period",
    )
    async def quota_status(request: Request[Any, Any, Any]) -> QuotaStatus:
        return await service.quota_status(security_of(request))

    return [list_models, get_model, quota_status]
