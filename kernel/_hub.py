"""ClientHub: typed clients handed between modules, by interface and by (interface, scope) (K-9)."""

from __future__ import annotations

from typing import Any, TypeVar, cast

T = TypeVar("T")


def _iface_name(iface: type) -> str:
    return f"{iface.__module__}.{iface.__qualname__}"


class ClientHubError(Exception):
    pass


class ClientAlreadyRegistered(ClientHubError):
    def __init__(self, iface: type, scope: str | None = None) -> None:
        where = f" in scope '{scope}'" if scope else ""
        super().__init__(
            f"a client for {_iface_name(iface)} is already registered{where} (pass replace=True)"
        )


class ClientTypeMismatch(ClientHubError):
    def __init__(self, iface: type, impl: object) -> None:
        super().__init__(f"{type(impl).__qualname__} does not implement {_iface_name(iface)}")


class ClientNotFound(ClientHubError):
    def __init__(self, iface: type) -> None:
        self.iface = iface
        super().__init__(f"no client registered for {_iface_name(iface)}")


class ScopedClientNotFound(ClientHubError):
    def __init__(self, iface: type, scope: str) -> None:
        self.iface, self.scope = iface, scope
        super().__init__(f"no client registered for {_iface_name(iface)} in scope '{scope}'")


class ClientHubFrozen(ClientHubError):
    def __init__(self) -> None:
        super().__init__("the client hub is frozen after start; register clients in init")


class ClientScope:
    @staticmethod
    def gts_id(gts_id: str) -> str:
        return "gts:" + gts_id


def _check_type(iface: type, impl: object) -> None:
    try:
        ok = isinstance(impl, iface)
    except Exception:  # non-runtime-checkable Protocol, or a property that cannot be read yet
        return
    if not ok:
        raise ClientTypeMismatch(iface, impl)


class ClientHub:
    def __init__(self) -> None:
        self._clients: dict[type, Any] = {}
        self._scoped: dict[type, dict[str, Any]] = {}
        self._frozen = False

    def freeze(self) -> None:
        self._frozen = True

    def _writable(self) -> None:
        if self._frozen:
            raise ClientHubFrozen()

    def register(self, iface: type[T], impl: T, *, replace: bool = False) -> None:
        self._writable()
        if iface in self._clients and not replace:
            raise ClientAlreadyRegistered(iface)
        _check_type(iface, impl)
        self._clients[iface] = impl

    def get(self, iface: type[T]) -> T:
        try:
            return cast(T, self._clients[iface])
        except KeyError:
            raise ClientNotFound(iface) from None

    def try_get(self, iface: type[T]) -> T | None:
        return cast("T | None", self._clients.get(iface))

    def remove(self, iface: type) -> None:
        self._writable()
        self._clients.pop(iface, None)

    def register_scoped(self, iface: type[T], scope: str, impl: T, *, replace: bool = False) -> None:
        self._writable()
        bucket = self._scoped.setdefault(iface, {})
        if scope in bucket and not replace:
            raise ClientAlreadyRegistered(iface, scope)
        _check_type(iface, impl)
        bucket[scope] = impl

    def get_scoped(self, iface: type[T], scope: str) -> T:
        try:
            return cast(T, self._scoped[iface][scope])
        except KeyError:
            raise ScopedClientNotFound(iface, scope) from None

    def try_get_scoped(self, iface: type[T], scope: str) -> T | None:
        return cast("T | None", self._scoped.get(iface, {}).get(scope))

    def list_scoped(self, iface: type[T]) -> dict[str, T]:
        return dict(self._scoped.get(iface, {}))

    def remove_scoped(self, iface: type, scope: str) -> None:
        self._writable()
        self._scoped.get(iface, {}).pop(scope, None)

    def all_scoped(self) -> list[tuple[type, str, Any]]:
        return [(i, s, c) for i, b in self._scoped.items() for s, c in b.items()]
