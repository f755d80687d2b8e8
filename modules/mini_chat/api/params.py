"""OData-lite query parameters (C-4) → the service's ``ListParams``; the service plans and checks them."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

from ..domain.service_api import ListParams

# Raw strings on purpose: a bad `limit` must reach the kernel's OData rules (422 `invalid_limit`, C-4.2),
# not Litestar's type validation (400).
FilterParam = Annotated[str | None, QueryParameter(name="$filter", description="OData-lite filter (C-4.4)")]
OrderByParam = Annotated[str | None, QueryParameter(name="$orderby", description="Sort items (C-4.5)")]
SelectParam = Annotated[str | None, QueryParameter(name="$select", description="Fields to keep (C-4.6)")]
CursorParam = Annotated[str | None, QueryParameter(name="cursor", description="Opaque page cursor (C-4.3)")]
LimitParam = Annotated[
    str | None, QueryParameter(name="limit", description="Page size: default 20, above 100 clamped (C-4.2)")
]


def list_params(
    filter_: str | None, orderby: str | None, cursor: str | None, limit: str | None, select: str | None
) -> ListParams:
    return ListParams(filter=filter_, orderby=orderby, cursor=cursor, limit=limit, select=select)
