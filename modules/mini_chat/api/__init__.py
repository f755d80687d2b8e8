"""mini-chat's REST layer (C-1 … C-16): Litestar routes, OData params, the SSE relay and problem mapping.

``build_router(service, config)`` is all ``module.py`` needs; handlers only adapt HTTP to ``MiniChatService``.
"""

from .routes import build_router
from .sse import SSE_HEADERS, SseStream, relay

__all__ = ["SSE_HEADERS", "SseStream", "build_router", "relay"]
