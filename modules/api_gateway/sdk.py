"""api-gateway's public face: how modules declare operations, and the RestHost client (P-6.1)."""

from fabrikit.kernel.http import Operation, RateLimit, RestHost, authenticated, operation, public

__all__ = ["Operation", "RateLimit", "RestHost", "authenticated", "operation", "public"]
