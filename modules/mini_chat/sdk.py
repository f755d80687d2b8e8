"""mini-chat's public face: plugin contracts, their models, GTS ids (C-17, C-18, C-19).

Plugin authors import from here only.
"""

from fabrikit.kernel.plugins import PluginSpec

from ._sdk_audit import (
    AuditAttachment,
    AuditPermanentError,
    AuditTransientError,
    AuditUsage,
    LatencyMs,
    LicenseDecision,
    MiniChatAuditPluginV1,
    PolicyDecisions,
    QuotaDecision,
    ToolCalls,
    TurnAuditEvent,
    TurnDeleteAuditEvent,
    TurnMutationAuditEvent,
)
from ._sdk_policy import (
    ApiParams,
    EstimationBudgets,
    Features,
    GeneralConfig,
    KillSwitches,
    LicenseStatus,
    MiniChatModelPolicyPluginV1,
    ModelCatalogEntry,
    PolicyInternalError,
    PolicyNotFoundError,
    PolicySnapshot,
    PolicyVersionInfo,
    Preference,
    PublishPermanentError,
    PublishTransientError,
    SupportedEndpoints,
    TierLimits,
    ToolSupport,
    UsageEvent,
    UsageTokens,
    UserLimits,
)

MODEL_POLICY_SPEC_ID = "gts.x.core.modkit.plugin.v1~x.core.mini_chat_model_policy.plugin.v1~"
AUDIT_SPEC_ID = "gts.x.core.modkit.plugin.v1~x.core.mini_chat_audit.plugin.v1~"

CHAT_RESOURCE_TYPE = "gts.cf.core.ai_chat.chat.v1~cf.core.mini_chat.chat.v1"
MODEL_RESOURCE_TYPE = "gts.cf.core.ai_chat.model.v1~cf.core.mini_chat.model.v1"
USER_QUOTA_RESOURCE_TYPE = "gts.cf.core.ai_chat.user_quota.v1~cf.core.mini_chat.user_quota.v1"

MODEL_POLICY_SPEC = PluginSpec(
    MODEL_POLICY_SPEC_ID,
    MiniChatModelPolicyPluginV1,
    description="mini-chat model policy: catalog, limits, usage",
)
AUDIT_SPEC = PluginSpec(AUDIT_SPEC_ID, MiniChatAuditPluginV1, description="mini-chat audit sink (fan-out)")

__all__ = [
    "AUDIT_SPEC",
    "AUDIT_SPEC_ID",
    "CHAT_RESOURCE_TYPE",
    "MODEL_POLICY_SPEC",
    "MODEL_POLICY_SPEC_ID",
    "MODEL_RESOURCE_TYPE",
    "USER_QUOTA_RESOURCE_TYPE",
    "ApiParams",
    "AuditAttachment",
    "AuditPermanentError",
    "AuditTransientError",
    "AuditUsage",
    "EstimationBudgets",
    "Features",
    "GeneralConfig",
    "KillSwitches",
    "LatencyMs",
    "LicenseDecision",
    "LicenseStatus",
    "MiniChatAuditPluginV1",
    "MiniChatModelPolicyPluginV1",
    "ModelCatalogEntry",
    "PolicyDecisions",
    "PolicyInternalError",
    "PolicyNotFoundError",
    "PolicySnapshot",
    "PolicyVersionInfo",
    "Preference",
    "PublishPermanentError",
    "PublishTransientError",
    "QuotaDecision",
    "SupportedEndpoints",
    "TierLimits",
    "ToolCalls",
    "ToolSupport",
    "TurnAuditEvent",
    "TurnDeleteAuditEvent",
    "TurnMutationAuditEvent",
    "UsageEvent",
    "UsageTokens",
    "UserLimits",
]
