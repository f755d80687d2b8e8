"""static-model-policy: one catalog and one set of limits for everyone, from config (C-20.1, C-20.2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from fabrikit.kernel import ConfigStruct, PluginContext, PluginDef, hookimpl
from fabrikit.modules.mini_chat.sdk import (
    MODEL_POLICY_SPEC_ID,
    KillSwitches,
    LicenseStatus,
    ModelCatalogEntry,
    PolicyNotFoundError,
    PolicySnapshot,
    PolicyVersionInfo,
    TierLimits,
    UsageEvent,
    UserLimits,
)

from .catalog import DEFAULT_CATALOG

INSTANCE_ID = MODEL_POLICY_SPEC_ID + "hyperspot.builtin.static_model_policy.plugin.v1"
POLICY_VERSION = 1
_MAX_MULTIPLIER = 10**10
_log = structlog.get_logger("fabrikit.plugins.static_model_policy")


class Limits(ConfigStruct):
    limit_daily_credits_micro: int
    limit_monthly_credits_micro: int


class StaticModelPolicyConfig(ConfigStruct):
    model_catalog: tuple[dict[str, Any], ...] = tuple(DEFAULT_CATALOG)
    kill_switches: KillSwitches = msgspec.field(default_factory=KillSwitches)
    default_standard_limits: Limits = msgspec.field(
        default_factory=lambda: Limits(
            limit_daily_credits_micro=100_000_000, limit_monthly_credits_micro=1_000_000_000
        )
    )
    default_premium_limits: Limits = msgspec.field(
        default_factory=lambda: Limits(
            limit_daily_credits_micro=50_000_000, limit_monthly_credits_micro=500_000_000
        )
    )

    def validate(self) -> None:
        parse_catalog(self.model_catalog)


def parse_catalog(raw: tuple[Mapping[str, Any], ...]) -> tuple[ModelCatalogEntry, ...]:
    """Validates the catalog (C-20.2): unknown keys, duplicate ids, one default per tier, ranges."""
    entries = []
    for i, item in enumerate(raw):
        data = dict(item)
        if isinstance(data.get("tier"), str):
            data["tier"] = data["tier"].lower()
        try:
            entry = msgspec.convert(data, ModelCatalogEntry, strict=False)
        except msgspec.ValidationError as exc:
            raise ValueError(f"model_catalog[{i}]: {exc}") from None
        _check_entry(i, entry)
        entries.append(entry)
    ids = [e.id for e in entries]
    dup = sorted({x for x in ids if ids.count(x) > 1})
    if dup:
        raise ValueError(f"model_catalog: duplicate model id(s) {', '.join(dup)}")
    for tier in ("standard", "premium"):
        defaults = [e.id for e in entries if e.tier == tier and e.is_default]
        if len(defaults) > 1:
            raise ValueError(f"model_catalog: more than one default {tier} model: {', '.join(defaults)}")
    return tuple(entries)


def _check_entry(i: int, e: ModelCatalogEntry) -> None:
    for name in ("input_tokens_credit_multiplier_micro", "output_tokens_credit_multiplier_micro"):
        value = getattr(e, name)
        if not 1 <= value <= _MAX_MULTIPLIER:
            raise ValueError(f"model_catalog[{i}].{name}: must be within 1..10^10, got {value}")
    if e.context_window <= 0 or e.max_output_tokens <= 0:
        raise ValueError(f"model_catalog[{i}]: context_window and max_output_tokens must be > 0")
    if e.context_window <= e.max_output_tokens:
        raise ValueError(f"model_catalog[{i}]: context_window must be greater than max_output_tokens")
    if e.max_input_tokens is not None and e.max_input_tokens <= 0:
        raise ValueError(f"model_catalog[{i}].max_input_tokens: must be > 0")
    if not 1 <= e.max_num_results <= 50:
        raise ValueError(f"model_catalog[{i}].max_num_results: must be within 1..50")
    if e.max_tool_calls < 1:
        raise ValueError(f"model_catalog[{i}].max_tool_calls: must be >= 1")


class StaticModelPolicy:
    def __init__(self, config: StaticModelPolicyConfig) -> None:
        self._catalog = parse_catalog(config.model_catalog)
        self._kill = config.kill_switches
        self._standard = TierLimits(
            limit_daily_credits_micro=config.default_standard_limits.limit_daily_credits_micro,
            limit_monthly_credits_micro=config.default_standard_limits.limit_monthly_credits_micro,
        )
        self._premium = TierLimits(
            limit_daily_credits_micro=config.default_premium_limits.limit_daily_credits_micro,
            limit_monthly_credits_micro=config.default_premium_limits.limit_monthly_credits_micro,
        )
        self._generated_at = datetime.now(UTC)

    def _version(self, policy_version: int) -> None:
        if policy_version != POLICY_VERSION:
            raise PolicyNotFoundError(f"policy version {policy_version} does not exist")

    async def get_current_policy_version(self, tenant_id: UUID, user_id: UUID) -> PolicyVersionInfo:
        return PolicyVersionInfo(
            tenant_id=tenant_id,
            user_id=user_id,
            policy_version=POLICY_VERSION,
            generated_at=self._generated_at,
        )

    async def get_policy_snapshot(
        self, tenant_id: UUID, user_id: UUID, policy_version: int
    ) -> PolicySnapshot:
        self._version(policy_version)
        return PolicySnapshot(
            tenant_id=tenant_id,
            user_id=user_id,
            policy_version=POLICY_VERSION,
            model_catalog=self._catalog,
            kill_switches=self._kill,
        )

    async def get_user_limits(self, tenant_id: UUID, user_id: UUID, policy_version: int) -> UserLimits:
        self._version(policy_version)
        return UserLimits(
            tenant_id=tenant_id,
            user_id=user_id,
            policy_version=POLICY_VERSION,
            standard=self._standard,
            premium=self._premium,
        )

    async def check_user_license(self, tenant_id: UUID, user_id: UUID) -> LicenseStatus:
        return LicenseStatus(active=True)

    async def publish_usage(self, event: UsageEvent) -> None:
        # Numbers only: usage events carry no content, but this log line stays minimal anyway.
        _log.info(
            "usage_published",
            dedupe_key=event.dedupe_key,
            billing_outcome=event.billing_outcome,
            committed_credits_micro=event.committed_credits_micro,
        )


def _factory(pctx: PluginContext) -> StaticModelPolicy:
    return StaticModelPolicy(pctx.config)


DEFINITION = PluginDef(
    name="static-model-policy",
    host="mini-chat",
    spec_id=MODEL_POLICY_SPEC_ID,
    instance_id=INSTANCE_ID,
    factory=_factory,
    config_type=StaticModelPolicyConfig,
    description="One model catalog and one set of credit limits for everyone, from config",
)


@hookimpl
def fabrikit_register_plugins(register: Callable[[PluginDef], None], config: Mapping[str, Any]) -> None:
    register(DEFINITION)
