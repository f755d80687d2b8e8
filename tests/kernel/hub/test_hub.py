"""K-9 ClientHub: typed registration, every error, scoped clients; K-9.2 frozen after start."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Protocol, runtime_checkable

import pytest

from fabrikit.kernel import (
    ClientAlreadyRegistered,
    ClientHub,
    ClientHubFrozen,
    ClientNotFound,
    ClientScope,
    ClientTypeMismatch,
    Manifest,
    Module,
    ModuleContext,
    ScopedClientNotFound,
)
from fabrikit.kernel.testing import RuntimeHarness


@runtime_checkable
class Gateway(Protocol):
    async def send(self, body: bytes) -> bytes: ...


class Plain(Protocol):  # not runtime-checkable: the hub cannot check it and must not try
    def ping(self) -> None: ...


class Store(abc.ABC):
    @abc.abstractmethod
    def get(self, key: str) -> str: ...


class RealGateway:
    async def send(self, body: bytes) -> bytes:
        return body


class OtherGateway(RealGateway):
    pass


class MemoryStore(Store):
    def get(self, key: str) -> str:
        return key


GATEWAY = f"{__name__}.Gateway"


def test_register_and_get() -> None:
    hub = ClientHub()
    gw = RealGateway()
    hub.register(Gateway, gw)
    assert hub.get(Gateway) is gw
    assert hub.try_get(Gateway) is gw


def test_second_registration_is_an_error_unless_replace() -> None:
    hub = ClientHub()
    first, second = RealGateway(), OtherGateway()
    hub.register(Gateway, first)
    with pytest.raises(ClientAlreadyRegistered, match=f"a client for {GATEWAY} is already registered"):
        hub.register(Gateway, second)
    assert hub.get(Gateway) is first
    hub.register(Gateway, second, replace=True)
    assert hub.get(Gateway) is second


def test_type_mismatch_for_runtime_checkable_protocol_and_abc() -> None:
    hub = ClientHub()
    with pytest.raises(ClientTypeMismatch, match=f"MemoryStore does not implement {GATEWAY}"):
        hub.register(Gateway, MemoryStore())
    with pytest.raises(ClientTypeMismatch, match="RealGateway does not implement"):
        hub.register(Store, RealGateway())
    assert hub.try_get(Gateway) is None
    assert hub.try_get(Store) is None


def test_unchecked_protocol_accepts_anything() -> None:
    hub = ClientHub()
    thing = object()
    hub.register(Plain, thing)
    assert hub.get(Plain) is thing


def test_not_found_names_the_interface() -> None:
    hub = ClientHub()
    assert hub.try_get(Gateway) is None
    with pytest.raises(ClientNotFound) as info:
        hub.get(Gateway)
    assert str(info.value) == f"no client registered for {GATEWAY}"
    assert info.value.iface is Gateway


def test_remove() -> None:
    hub = ClientHub()
    hub.register(Gateway, RealGateway())
    hub.remove(Gateway)
    assert hub.try_get(Gateway) is None
    hub.remove(Gateway)  # removing twice is harmless
    hub.register(Gateway, RealGateway())  # and registering again is allowed


def test_scoped_clients() -> None:
    hub = ClientHub()
    a, b = RealGateway(), RealGateway()
    scope_a, scope_b = ClientScope.gts_id("x.a.v1"), ClientScope.gts_id("x.b.v1")
    assert scope_a == "gts:x.a.v1"
    hub.register_scoped(Gateway, scope_a, a)
    hub.register_scoped(Gateway, scope_b, b)
    assert hub.get_scoped(Gateway, scope_a) is a
    assert hub.try_get_scoped(Gateway, scope_b) is b
    assert hub.list_scoped(Gateway) == {scope_a: a, scope_b: b}
    # scoped and unscoped registrations are separate
    assert hub.try_get(Gateway) is None
    with pytest.raises(
        ClientAlreadyRegistered, match=f"{GATEWAY} is already registered in scope 'gts:x.a.v1'"
    ):
        hub.register_scoped(Gateway, scope_a, b)
    hub.register_scoped(Gateway, scope_a, b, replace=True)
    assert hub.get_scoped(Gateway, scope_a) is b
    with pytest.raises(ClientTypeMismatch):
        hub.register_scoped(Gateway, "gts:x.c.v1", MemoryStore())
    hub.remove_scoped(Gateway, scope_a)
    assert hub.list_scoped(Gateway) == {scope_b: b}


def test_scoped_not_found() -> None:
    hub = ClientHub()
    assert hub.try_get_scoped(Gateway, "gts:x") is None
    assert hub.list_scoped(Gateway) == {}
    with pytest.raises(ScopedClientNotFound) as info:
        hub.get_scoped(Gateway, "gts:x")
    assert str(info.value) == f"no client registered for {GATEWAY} in scope 'gts:x'"
    assert (info.value.iface, info.value.scope) == (Gateway, "gts:x")
    hub.register_scoped(Gateway, "gts:y", RealGateway())
    with pytest.raises(ScopedClientNotFound):
        hub.get_scoped(Gateway, "gts:x")


def test_list_scoped_is_a_copy() -> None:
    hub = ClientHub()
    hub.register_scoped(Gateway, "gts:a", RealGateway())
    listed = hub.list_scoped(Gateway)
    listed.clear()
    assert len(hub.list_scoped(Gateway)) == 1


def test_frozen_hub_refuses_every_write_but_still_reads() -> None:
    hub = ClientHub()
    gw = RealGateway()
    hub.register(Gateway, gw)
    hub.register_scoped(Gateway, "gts:a", gw)
    hub.freeze()
    for write in (
        lambda: hub.register(Store, MemoryStore()),
        lambda: hub.register(Gateway, gw, replace=True),
        lambda: hub.register_scoped(Gateway, "gts:b", gw),
        lambda: hub.remove(Gateway),
        lambda: hub.remove_scoped(Gateway, "gts:a"),
    ):
        with pytest.raises(ClientHubFrozen, match="frozen after start"):
            write()
    assert hub.get(Gateway) is gw
    assert hub.get_scoped(Gateway, "gts:a") is gw


class Provider(Module):
    manifest = Manifest("provider")

    async def init(self, ctx: ModuleContext) -> None:
        ctx.hub.register(Gateway, RealGateway())


class Consumer(Module):
    manifest = Manifest("consumer", deps=["provider"])
    seen: list[object] = []

    async def init(self, ctx: ModuleContext) -> None:
        Consumer.seen.append(ctx.hub.get(Gateway))


async def test_runtime_hub_prefilled_then_frozen_after_start(tmp_path: Path) -> None:
    Consumer.seen = []
    store = MemoryStore()
    async with RuntimeHarness(modules=[Consumer, Provider], clients={Store: store}, home=tmp_path) as h:
        assert h.hub.get(Store) is store
        assert isinstance(Consumer.seen[0], RealGateway)
        assert Consumer.seen[0] is h.hub.get(Gateway)
        with pytest.raises(ClientHubFrozen):
            h.hub.register(Plain, object())


def test_runtime_clients_are_type_checked(tmp_path: Path) -> None:
    with pytest.raises(ClientTypeMismatch):
        RuntimeHarness(modules=[Provider], clients={Store: RealGateway()}, home=tmp_path)
