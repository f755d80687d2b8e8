"""Pure oagw logic: validation, matching, resolution, merge, headers, limits, breaker, network policy (G-1.2).

Imports no aiohttp, Litestar or Piccolo. Import the sub-modules directly (``from ...domain.matching import ...``).
"""
