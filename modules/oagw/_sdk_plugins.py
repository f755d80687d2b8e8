"""Plugin extension points (G-14.3): auth, guard and transform, each a Protocol with plain async methods."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import msgspec

from fabrikit.kernel.security import Secret, SecurityContext

from ._sdk_errors import SecretNotFoundError

_SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
SecretResolver = Callable[[str], Awaitable[Secret]]


def parse_secret_ref(ref: str) -> str:
    """``cred://name`` or ``name`` → ``name``; anything else cannot resolve (500 ``secret.not_found``)."""
    name = ref[len("cred://") :] if isinstance(ref, str) and ref.startswith("cred://") else ref
    if not isinstance(name, str) or not _SECRET_NAME_RE.match(name):
        raise SecretNotFoundError(
            "secret reference must be 'cred://<name>' or '<name>' ([A-Za-z0-9_-]{1,255})"
        )
    return name


class _HeaderEditing:
    __slots__ = ()
    headers: list[tuple[str, str]]

    def get_header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def remove_header(self, name: str) -> None:
        lname = name.lower()
        self.headers[:] = [(k, v) for k, v in self.headers if k.lower() != lname]

    def set_header(self, name: str, value: str) -> None:
        self.remove_header(name)
        self.headers.append((name.lower(), value))

    def add_header(self, name: str, value: str) -> None:
        self.headers.append((name.lower(), value))


class AuthContext(_HeaderEditing):
    """What an auth plugin sees: the outbound headers (mutable), its config and the caller's context.

    ``await actx.secret(ref)`` reads credstore with the caller's context on every call; the plugin never sees the
    credstore client itself.
    """

    __slots__ = ("_resolver", "config", "headers", "method", "path", "plugin_id", "security_context")

    def __init__(
        self,
        *,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        config: dict[str, str],
        security_context: SecurityContext,
        secret_resolver: SecretResolver,
        plugin_id: str = "",
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.config = config
        self.security_context = security_context
        self.plugin_id = plugin_id
        self._resolver = secret_resolver

    async def secret(self, ref: str) -> Secret:
        return await self._resolver(parse_secret_ref(ref))

    def __repr__(self) -> str:
        return f"AuthContext(plugin_id={self.plugin_id!r}, method={self.method}, path={self.path!r})"


@runtime_checkable
class AuthPlugin(Protocol):
    async def authenticate(self, actx: AuthContext) -> None:
        """Add credentials to ``actx.headers``; raise ``AuthenticationFailedError`` (or another OagwError)."""
        ...


class GuardContext(_HeaderEditing, msgspec.Struct, kw_only=True):
    method: str
    path: str
    headers: list[tuple[str, str]]
    config: dict[str, str] = msgspec.field(default_factory=dict)
    status: int | None = None  # None on the request side


class Allow(msgspec.Struct, frozen=True):
    pass


class Reject(msgspec.Struct, frozen=True, kw_only=True):
    status: int = 400
    error_code: str | None = None
    detail: str = ""


GuardDecision = Allow | Reject
ALLOW = Allow()


@runtime_checkable
class GuardPlugin(Protocol):
    async def check_request(self, gctx: GuardContext) -> Allow | Reject: ...

    async def check_response(self, gctx: GuardContext) -> Allow | Reject: ...


class TransformRequestContext(_HeaderEditing, msgspec.Struct, kw_only=True):
    """Headers and query may be edited in place; the path is read-only by contract (G-12.1 step 11)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    config: dict[str, str] = msgspec.field(default_factory=dict)


class TransformResponseContext(_HeaderEditing, msgspec.Struct, kw_only=True):
    status: int
    headers: list[tuple[str, str]]
    config: dict[str, str] = msgspec.field(default_factory=dict)


class TransformErrorContext(msgspec.Struct, kw_only=True):
    type: str
    status: int
    detail: str
    config: dict[str, str] = msgspec.field(default_factory=dict)


@runtime_checkable
class TransformPlugin(Protocol):
    async def on_request(self, ctx: TransformRequestContext) -> None: ...

    async def on_response(self, ctx: TransformResponseContext) -> None: ...

    async def on_error(self, ctx: TransformErrorContext) -> None: ...
