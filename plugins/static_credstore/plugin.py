"""static-credstore: secrets from configuration or the environment (P-5.2)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from fabrikit.kernel import ConfigStruct, PluginContext, PluginDef, hookimpl
from fabrikit.kernel.security import NIL_UUID, Secret, SecurityContext
from fabrikit.modules.credstore.sdk import (
    CREDSTORE_PLUGIN_SPEC_ID,
    InvalidSecretRef,
    SecretMetadata,
    SecretRef,
    SecretValue,
    Sharing,
)

INSTANCE_ID = CREDSTORE_PLUGIN_SPEC_ID + "x.core._.static_credstore.v1"

# (sharing, tenant, owner, name); global entries are ("shared", None, None, name).
_Slot = tuple[Sharing, UUID | None, UUID | None, str]


class SecretEntry(ConfigStruct):
    key: str
    value: Secret | None = None
    value_env: str | None = None
    tenant_id: UUID | None = None
    owner_id: UUID | None = None
    sharing: Sharing | None = None

    @property
    def name(self) -> str:
        return SecretRef.parse(self.key).name

    @property
    def effective_sharing(self) -> Sharing:
        if self.sharing is not None:
            return self.sharing
        if self.tenant_id is None:
            return "shared"
        return "tenant" if self.owner_id is None else "private"

    @property
    def slot(self) -> _Slot:
        sharing = self.effective_sharing
        return (sharing, self.tenant_id, self.owner_id if sharing == "private" else None, self.name)

    def describe_scope(self) -> str:
        if self.tenant_id is None:
            return "global"
        if self.effective_sharing == "private":
            return f"private to {self.owner_id} in tenant {self.tenant_id}"
        return f"{self.effective_sharing} in tenant {self.tenant_id}"

    def validate(self) -> None:
        # Messages name fields, never values: a rejected config must not print a secret.
        problems: list[ValueError] = []
        try:
            SecretRef.parse(self.key)
        except InvalidSecretRef:
            problems.append(ValueError("key must be 'cred://<name>' or '<name>' of 1-255 [A-Za-z0-9_-]"))
        if (self.value is None) == (self.value_env is None):
            problems.append(ValueError("exactly one of 'value' or 'value_env' is required"))
        if self.value_env is not None and not self.value_env:
            problems.append(ValueError("value_env must name an environment variable"))
        for field in ("tenant_id", "owner_id"):
            if getattr(self, field) == NIL_UUID:
                problems.append(ValueError(f"{field} must not be the nil UUID"))
        if self.owner_id is not None and self.tenant_id is None:
            problems.append(ValueError("owner_id requires tenant_id"))
        if self.owner_id is not None and self.sharing not in (None, "private"):
            problems.append(
                ValueError(f"owner_id is only allowed with sharing 'private', not '{self.sharing}'")
            )
        if self.sharing == "private" and self.owner_id is None:
            problems.append(ValueError("sharing 'private' requires owner_id"))
        if self.sharing == "tenant" and self.tenant_id is None:
            problems.append(ValueError("sharing 'tenant' requires tenant_id"))
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise ExceptionGroup("invalid secret entry", problems)


class StaticCredStoreConfig(ConfigStruct):
    secrets: tuple[SecretEntry, ...] = ()

    def validate(self) -> None:
        seen: dict[_Slot, int] = {}
        problems: list[ValueError] = []
        for index, entry in enumerate(self.secrets):
            try:
                slot = entry.slot
            except InvalidSecretRef:
                continue  # the entry's own validate() reports it
            if slot in seen:
                problems.append(
                    ValueError(
                        f"secrets[{index}]: duplicate key '{slot[3]}' ({entry.describe_scope()}), first at secrets[{seen[slot]}]",
                    )
                )
            else:
                seen[slot] = index
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise ExceptionGroup("duplicate secret keys", problems)


class StaticCredStorePlugin:
    """Lookup order: private (tenant, subject) → tenant → shared → global (P-5.2.3)."""

    def __init__(self, config: StaticCredStoreConfig, environ: Mapping[str, str], logger: Any) -> None:
        self._slots: dict[_Slot, SecretValue] = {}
        for entry in config.secrets:
            if entry.value is not None:
                self._slots[entry.slot] = SecretValue(entry.value.reveal())
            elif entry.value_env is not None:
                raw = environ.get(entry.value_env)
                if raw is None:
                    logger.warning(
                        "credstore_secret_env_unset",
                        key=entry.name,
                        variable=entry.value_env,
                        tenant_id=str(entry.tenant_id) if entry.tenant_id else None,
                        detail="the secret stays absent",
                    )
                    continue
                self._slots[entry.slot] = SecretValue(raw)

    async def get(self, ctx: SecurityContext, ref: SecretRef) -> SecretMetadata | None:
        t, s, name = ctx.subject_tenant_id, ctx.subject_id, ref.name
        candidates: list[tuple[_Slot, UUID, UUID | None]] = [
            (("private", t, s, name), t, s),
            (("tenant", t, None, name), t, None),
            (("shared", t, None, name), t, None),
            (("shared", None, None, name), NIL_UUID, None),
        ]
        for slot, owner_tenant, owner in candidates:
            value = self._slots.get(slot)
            if value is not None:
                return SecretMetadata(
                    value=value, owner_id=owner, sharing=slot[0], owner_tenant_id=owner_tenant
                )
        return None

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        return f"StaticCredStorePlugin(secrets={len(self._slots)})"


def _factory(pctx: PluginContext) -> StaticCredStorePlugin:
    plugin = StaticCredStorePlugin(pctx.config, os.environ, pctx.logger)
    pctx.logger.info("credstore_static_loaded", secrets=len(plugin))
    return plugin


DEFINITION = PluginDef(
    name="static-credstore",
    host="credstore",
    spec_id=CREDSTORE_PLUGIN_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=_factory,
    config_type=StaticCredStoreConfig,
    priority=100,
    description="Static credential store: secrets from config values or environment variables",
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    register(DEFINITION)
