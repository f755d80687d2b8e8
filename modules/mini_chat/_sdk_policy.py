"""Model-policy plugin contract (C-17): catalog, kill switches, limits, license, usage publishing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable
from uuid import UUID

import msgspec

Tier = Literal["standard", "premium"]
SearchContextSize = Literal["low", "medium", "high"]


class EstimationBudgets(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bytes_per_token_conservative: int = 4
    fixed_overhead_tokens: int = 100
    safety_margin_pct: int = 10
    image_token_budget: int = 1000
    tool_surcharge_tokens: int = 500
    web_search_surcharge_tokens: int = 500
    code_interpreter_surcharge_tokens: int = 1000
    minimal_generation_floor: int = 50


class ApiParams(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    temperature: float | None = None
    top_p: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: tuple[str, ...] = ()
    extra_body: dict[str, Any] | None = None
    reasoning_effort: str | None = None


class Features(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    streaming: bool = True
    structured_output: bool = False


class ToolSupport(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    web_search: bool = False
    file_search: bool = False
    image_generation: bool = False
    code_interpreter: bool = False
    mcp: bool = False


class SupportedEndpoints(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    chat_completions: bool = False
    responses: bool = True
    embeddings: bool = False
    image_generation: bool = False
    audio_speech_generation: bool = False
    audio_transcription: bool = False
    audio_translation: bool = False


class GeneralConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type: str = "llm"
    available_from: str | None = None
    max_file_size_mb: int = 25
    api_params: ApiParams = msgspec.field(default_factory=ApiParams)
    features: Features = msgspec.field(default_factory=Features)
    tool_support: ToolSupport = msgspec.field(default_factory=ToolSupport)
    supported_endpoints: SupportedEndpoints = msgspec.field(default_factory=SupportedEndpoints)


class Preference(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    is_default: bool = False
    sort_order: int | None = None


class ModelCatalogEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    id: str
    provider_model_id: str
    provider_id: str
    display_name: str
    tier: Tier
    context_window: int
    max_output_tokens: int
    input_tokens_credit_multiplier_micro: int
    output_tokens_credit_multiplier_micro: int
    description: str = ""
    provider_display_name: str = ""
    icon: str = ""
    multiplier_display: str = ""
    system_prompt: str = ""
    thread_summary_prompt: str = ""
    enabled: bool = False
    multimodal_capabilities: tuple[str, ...] = ()
    max_input_tokens: int | None = None
    estimation_budgets: EstimationBudgets | None = None
    max_num_results: int = 5
    web_search_context_size: SearchContextSize = "low"
    max_tool_calls: int = 2
    preference: Preference | None = None
    general_config: GeneralConfig = msgspec.field(default_factory=GeneralConfig)

    @property
    def effective_max_input_tokens(self) -> int:
        return self.max_input_tokens if self.max_input_tokens is not None else self.context_window

    @property
    def is_default(self) -> bool:
        return bool(self.preference and self.preference.is_default)


class KillSwitches(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    disable_premium_tier: bool = False
    force_standard_tier: bool = False
    disable_file_search: bool = False
    disable_web_search: bool = False
    disable_images: bool = False
    disable_code_interpreter: bool = False


class PolicyVersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    user_id: UUID
    policy_version: int
    generated_at: datetime


class PolicySnapshot(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    user_id: UUID
    policy_version: int
    model_catalog: tuple[ModelCatalogEntry, ...]
    kill_switches: KillSwitches = msgspec.field(default_factory=KillSwitches)


class TierLimits(msgspec.Struct, frozen=True, kw_only=True):
    limit_daily_credits_micro: int
    limit_monthly_credits_micro: int


class UserLimits(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    user_id: UUID
    policy_version: int
    standard: TierLimits
    premium: TierLimits


class LicenseStatus(msgspec.Struct, frozen=True):
    active: bool


class UsageTokens(msgspec.Struct, frozen=True, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    reasoning_tokens: int = 0


class UsageEvent(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=False):
    """Published once per reserved turn and once per completed system task (C-19)."""

    tenant_id: UUID
    chat_id: UUID
    request_id: UUID
    requester_type: Literal["user", "system"]
    selected_model: str
    effective_model: str
    billing_outcome: Literal["completed", "failed", "aborted", "system_task"]
    settlement_method: Literal["actual", "estimated", "released", "none"]
    committed_credits_micro: int
    actual_credits_micro: int
    overshoot_capped: bool
    quota_decision: str
    web_search_calls: int
    code_interpreter_calls: int
    timestamp: datetime
    dedupe_key: str
    user_id: UUID | None = None
    turn_id: UUID | None = None
    system_task_type: str | None = None
    terminal_state: Literal["completed", "failed", "cancelled"] | None = None
    error_code: str | None = None
    completion_signal: dict[str, str] | None = None
    usage: UsageTokens | None = None
    reserve_tokens: int | None = None
    reserved_credits_micro: int | None = None
    policy_version_applied: int | None = None
    downgrade_from: str | None = None
    downgrade_reason: str | None = None


class PolicyNotFoundError(Exception):
    """The requested policy version does not exist."""


class PolicyInternalError(Exception):
    """The policy source failed."""


class PublishTransientError(Exception):
    """publish_usage failed in a way worth retrying."""


class PublishPermanentError(Exception):
    """publish_usage will never accept this event (dead letter)."""


@runtime_checkable
class MiniChatModelPolicyPluginV1(Protocol):
    async def get_current_policy_version(self, tenant_id: UUID, user_id: UUID) -> PolicyVersionInfo: ...

    async def get_policy_snapshot(
        self, tenant_id: UUID, user_id: UUID, policy_version: int
    ) -> PolicySnapshot: ...

    async def get_user_limits(self, tenant_id: UUID, user_id: UUID, policy_version: int) -> UserLimits: ...

    async def check_user_license(self, tenant_id: UUID, user_id: UUID) -> LicenseStatus: ...

    async def publish_usage(self, event: UsageEvent) -> None: ...
