"""Policy resolution and caches (CI-15): version 60 s, snapshots per version (immutable), limits 60 s,
license 60 s. Plugin failures re-resolve the plugin and surface as 503 ``service_unavailable``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from ..sdk import LicenseStatus, PolicySnapshot, UserLimits
from .errors import LicenseRequired, ServiceUnavailable
from .models import EffectiveCatalog, effective_catalog
from .ports import Clock, PolicyPluginSource

TTL_SECONDS = 60.0
_SNAPSHOT_CAP = 1024
K = TypeVar("K")
V = TypeVar("V")


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """One user's current policy: the snapshot with unconfigured providers disabled, and the limits."""

    snapshot: PolicySnapshot
    catalog: EffectiveCatalog
    limits: UserLimits

    @property
    def version(self) -> int:
        return self.snapshot.policy_version


class _Ttl:
    def __init__(self, clock: Clock, ttl: float) -> None:
        self._clock, self._ttl = clock, ttl
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any | None:
        hit = self._items.get(key)
        if hit is None or self._clock.monotonic() - hit[0] >= self._ttl:
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        if len(self._items) > 10_000:
            self._items.clear()
        self._items[key] = (self._clock.monotonic(), value)


class PolicyGateway:
    def __init__(
        self, source: PolicyPluginSource, clock: Clock, configured_providers: Collection[str]
    ) -> None:
        self._source = source
        self._providers = frozenset(configured_providers)
        self._versions = _Ttl(clock, TTL_SECONDS)
        self._limits = _Ttl(clock, TTL_SECONDS)
        self._licenses = _Ttl(clock, TTL_SECONDS)
        self._snapshots: OrderedDict[tuple[UUID, UUID, int], PolicySnapshot] = OrderedDict()

    async def check_license(self, tenant_id: UUID, user_id: UUID) -> None:
        key = (tenant_id, user_id)
        status: LicenseStatus | None = self._licenses.get(key)
        if status is None:
            try:
                status = await (await self._source.get()).check_user_license(tenant_id, user_id)
            except Exception as exc:
                self._source.invalidate()
                raise ServiceUnavailable("The model policy service is unavailable.") from exc
            self._licenses.put(key, status)
        if not status.active:
            raise LicenseRequired("An active chat license is required.")

    async def current(self, tenant_id: UUID, user_id: UUID) -> Policy:
        """Version → snapshot → limits (P5); any failure → 503."""
        try:
            plugin = await self._source.get()
            version = self._versions.get((tenant_id, user_id))
            if version is None:
                version = (await plugin.get_current_policy_version(tenant_id, user_id)).policy_version
                self._versions.put((tenant_id, user_id), version)
            snap_key = (tenant_id, user_id, version)
            snapshot = self._snapshots.get(snap_key)
            if snapshot is None:
                snapshot = await plugin.get_policy_snapshot(tenant_id, user_id, version)
                self._snapshots[snap_key] = snapshot
                while len(self._snapshots) > _SNAPSHOT_CAP:
                    self._snapshots.popitem(last=False)
            else:
                self._snapshots.move_to_end(snap_key)
            limits = self._limits.get(snap_key)
            if limits is None:
                limits = await plugin.get_user_limits(tenant_id, user_id, version)
                self._limits.put(snap_key, limits)
        except Exception as exc:
            self._source.invalidate()
            raise ServiceUnavailable("The model policy service is unavailable.") from exc
        catalog = effective_catalog(snapshot.model_catalog, self._providers)
        return Policy(snapshot=snapshot, catalog=catalog, limits=limits)
