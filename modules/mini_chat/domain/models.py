"""Effective catalog, default-model choice (C-6.2), model listing (C-15) and capability rules (CI-13.6)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import msgspec

from ..sdk import ModelCatalogEntry
from .errors import InvalidModel, ModelNotFound

VISION_INPUT = "VISION_INPUT"
RAG = "RAG"
CHAT_COMPLETIONS_KIND = "openai_chat_completions"
# Only these provider kinds run hosted tools (file/web search, code interpreter) and take image input.
_HOSTED_TOOL_KINDS = frozenset({"openai_responses", "azure_openai_responses"})


class PublicModel(msgspec.Struct, frozen=True, kw_only=True):
    """``Model`` as clients see it (C-5); nothing of C-15.2 leaks."""

    model_id: str
    display_name: str
    tier: str
    multiplier_display: str
    description: str
    multimodal_capabilities: tuple[str, ...]
    context_window: int


class EffectiveCatalog(msgspec.Struct, frozen=True, kw_only=True):
    entries: tuple[ModelCatalogEntry, ...]
    unconfigured: tuple[str, ...]  # ids disabled because their provider is not configured (log a warning)


def effective_catalog(
    catalog: Sequence[ModelCatalogEntry], configured_providers: Collection[str]
) -> EffectiveCatalog:
    """Entries whose ``provider_id`` is not configured count as disabled (C-20.2); order is kept."""
    entries: list[ModelCatalogEntry] = []
    unconfigured: list[str] = []
    for entry in catalog:
        if entry.provider_id not in configured_providers:
            if entry.enabled:
                unconfigured.append(entry.id)
            entry = msgspec.structs.replace(entry, enabled=False)
        entries.append(entry)
    return EffectiveCatalog(entries=tuple(entries), unconfigured=tuple(unconfigured))


def enabled_entries(catalog: Sequence[ModelCatalogEntry]) -> list[ModelCatalogEntry]:
    return [entry for entry in catalog if entry.enabled]


def default_model(catalog: Sequence[ModelCatalogEntry]) -> ModelCatalogEntry | None:
    """Enabled premium default, else first enabled premium, else first enabled standard (catalog order)."""
    enabled = enabled_entries(catalog)
    premium = [entry for entry in enabled if entry.tier == "premium"]
    for entry in premium:
        if entry.is_default:
            return entry
    if premium:
        return premium[0]
    return next((entry for entry in enabled if entry.tier == "standard"), None)


def default_standard_model(catalog: Sequence[ModelCatalogEntry]) -> ModelCatalogEntry | None:
    """The catalog's default standard model (summaries, CI-9.3): enabled ``is_default``, else first enabled."""
    standard = [entry for entry in enabled_entries(catalog) if entry.tier == "standard"]
    return next((entry for entry in standard if entry.is_default), standard[0] if standard else None)


def choose_chat_model(catalog: Sequence[ModelCatalogEntry], requested: str | None) -> ModelCatalogEntry:
    """C-6.2: a given id must be enabled; without one the default chain applies; else 400 ``invalid_model``."""
    if requested is not None:
        for entry in catalog:
            if entry.id == requested and entry.enabled:
                return entry
        raise InvalidModel("The requested model is not available.")
    chosen = default_model(catalog)
    if chosen is None:
        raise InvalidModel("No model is available.")
    return chosen


def _sort_key(entry: ModelCatalogEntry) -> tuple[int, int, str]:
    order = entry.preference.sort_order if entry.preference else None
    return (0, order, entry.id) if order is not None else (1, 0, entry.id)


def listed_models(catalog: Sequence[ModelCatalogEntry]) -> list[ModelCatalogEntry]:
    """Enabled entries by ``sort_order`` ascending (missing last), then id (C-15.1)."""
    return sorted(enabled_entries(catalog), key=_sort_key)


def find_listed_model(catalog: Sequence[ModelCatalogEntry], model_id: str) -> ModelCatalogEntry:
    for entry in catalog:
        if entry.id == model_id and entry.enabled:
            return entry
    raise ModelNotFound("No such model.")


def public_model(entry: ModelCatalogEntry) -> PublicModel:
    return PublicModel(
        model_id=entry.id,
        display_name=entry.display_name,
        tier=entry.tier,
        multiplier_display=entry.multiplier_display,
        description=entry.description,
        multimodal_capabilities=tuple(entry.multimodal_capabilities),
        context_window=entry.context_window,
    )


def hosted_tools_supported(provider_kind: str) -> bool:
    return provider_kind in _HOSTED_TOOL_KINDS


def supports_vision(entry: ModelCatalogEntry, provider_kind: str) -> bool:
    """``VISION_INPUT`` and a provider kind that takes images (Chat Completions and vLLM do not here)."""
    return VISION_INPUT in entry.multimodal_capabilities and provider_kind in _HOSTED_TOOL_KINDS


def supports_file_search(entry: ModelCatalogEntry, provider_kind: str) -> bool:
    return entry.general_config.tool_support.file_search and hosted_tools_supported(provider_kind)


def supports_code_interpreter(entry: ModelCatalogEntry, provider_kind: str) -> bool:
    return entry.general_config.tool_support.code_interpreter and hosted_tools_supported(provider_kind)


def provider_kind_of(entry: ModelCatalogEntry, provider_kinds: Mapping[str, str]) -> str:
    """The ``kind`` of the entry's provider (config ``providers.<id>.kind``); unknown ids read as chat kind."""
    return provider_kinds.get(entry.provider_id, CHAT_COMPLETIONS_KIND)
