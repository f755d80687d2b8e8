"""The default catalog used by ``fabrikit run`` without config: three models on the mock provider (C-20)."""

from __future__ import annotations

from typing import Any

_COMMON: dict[str, Any] = {
    "provider_id": "mock",
    "enabled": True,
    "max_tool_calls": 10,
    "max_num_results": 5,
    "system_prompt": "You are a helpful assistant.",
}


def _general(*, web: bool, file: bool, ci: bool) -> dict[str, Any]:
    return {
        "max_file_size_mb": 25,
        "tool_support": {"web_search": web, "file_search": file, "code_interpreter": ci},
        "supported_endpoints": {"responses": True, "chat_completions": True},
    }


DEFAULT_CATALOG: list[dict[str, Any]] = [
    {
        **_COMMON,
        "id": "gpt-4.1",
        "provider_model_id": "gpt-4.1",
        "display_name": "GPT-4.1 (mock)",
        "description": "Premium model served by the bundled mock provider.",
        "tier": "premium",
        "context_window": 1_047_576,
        "max_output_tokens": 32_768,
        "input_tokens_credit_multiplier_micro": 3_000_000,
        "output_tokens_credit_multiplier_micro": 15_000_000,
        "multiplier_display": "3x",
        "multimodal_capabilities": ["VISION_INPUT", "RAG"],
        "preference": {"is_default": True, "sort_order": 1},
        "general_config": _general(web=True, file=True, ci=True),
    },
    {
        **_COMMON,
        "id": "gpt-4.1-mini",
        "provider_model_id": "gpt-4.1-mini",
        "display_name": "GPT-4.1 mini (mock)",
        "description": "Standard model served by the bundled mock provider.",
        "tier": "standard",
        "context_window": 1_047_576,
        "max_output_tokens": 32_768,
        "input_tokens_credit_multiplier_micro": 1_000_000,
        "output_tokens_credit_multiplier_micro": 3_000_000,
        "multiplier_display": "1x",
        "multimodal_capabilities": ["VISION_INPUT", "RAG"],
        "preference": {"is_default": True, "sort_order": 2},
        "general_config": _general(web=False, file=True, ci=True),
    },
    {
        **_COMMON,
        "id": "gpt-4.1-mini-tiny-ctx",
        "provider_model_id": "gpt-4.1-mini",
        "display_name": "GPT-4.1 mini, tiny context (mock)",
        "description": "A 4k-context standard model that exercises truncation and thread summaries.",
        "tier": "standard",
        "context_window": 4_096,
        "max_output_tokens": 1_024,
        "input_tokens_credit_multiplier_micro": 1_000_000,
        "output_tokens_credit_multiplier_micro": 3_000_000,
        "multiplier_display": "1x",
        "multimodal_capabilities": ["VISION_INPUT"],
        "preference": {"is_default": False, "sort_order": 3},
        "general_config": _general(web=False, file=False, ci=False),
    },
]
