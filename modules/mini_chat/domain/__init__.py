"""Pure mini-chat logic: quota arithmetic, settlement, estimation, context assembly, SSE grammar, provider event
normalization and request bodies, redaction, ids (CI-1.1).

Imports no Litestar, Piccolo, aiohttp or database driver (a test enforces it). Import the sub-modules directly
(``from fabrikit.modules.mini_chat.domain.cascade import run_cascade``).
"""
