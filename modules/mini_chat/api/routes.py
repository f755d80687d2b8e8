"""All mini-chat routes under ``{url_prefix}/v1`` (C-1.1), behind the license guard (C-2.2)."""

from __future__ import annotations

from litestar import Router

from ..config import RagConfig, StreamingConfig
from ..domain.service_api import MiniChatService
from .deps import Deps, license_guard
from .routes_attachments import attachment_handlers
from .routes_catalog import catalog_handlers
from .routes_chats import chat_handlers
from .routes_turns import turn_handlers


def build_router(
    service: MiniChatService, *, url_prefix: str, streaming: StreamingConfig, rag: RagConfig | None = None
) -> Router:
    deps = Deps(service=service, streaming=streaming)
    return Router(
        f"{url_prefix}/v1",
        route_handlers=[
            *catalog_handlers(deps),
            *chat_handlers(deps),
            *turn_handlers(deps),
            *attachment_handlers(deps, rag or RagConfig()),
        ],
        guards=[license_guard(deps)],
        tags=["mini-chat"],
    )
