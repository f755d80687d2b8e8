"""Provider request bodies built from a context plan (CI-13.1 Responses, CI-13.6 Chat Completions, CI-13.7 vLLM)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ..sdk import ApiParams, ModelCatalogEntry
from .context import ContextPlan, HistoryMessage, ToolPlan


def _api_params(params: ApiParams, *, chat: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("temperature", "top_p", "frequency_penalty", "presence_penalty"):
        value = getattr(params, name)
        if value is not None:
            out[name] = value
    if params.stop:
        out["stop"] = list(params.stop)
    if params.reasoning_effort:
        if chat:
            out["reasoning_effort"] = params.reasoning_effort
        else:
            out["reasoning"] = {"effort": params.reasoning_effort}
    return out


def _merge_extra(body: dict[str, Any], params: ApiParams) -> dict[str, Any]:
    if params.extra_body:
        body.update(params.extra_body)
    return body


def responses_tools(tools: ToolPlan) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if tools.file_search:
        out.append(
            {
                "type": "file_search",
                "vector_store_ids": list(tools.file_search.vector_store_ids),
                "max_num_results": tools.file_search.max_num_results,
            }
        )
    if tools.web_search:
        out.append({"type": "web_search", "search_context_size": tools.web_search.search_context_size})
    if tools.code_interpreter:
        out.append(
            {
                "type": "code_interpreter",
                "container": {"type": "auto", "file_ids": list(tools.code_interpreter.file_ids)},
            }
        )
    return out


def _responses_message(message: HistoryMessage, *, plain_assistant: bool) -> dict[str, Any]:
    if message.role == "assistant":
        content: Any = (
            message.content if plain_assistant else [{"type": "output_text", "text": message.content}]
        )
    else:
        content = [{"type": "input_text", "text": message.content}]
    return {"type": "message", "role": message.role, "content": content}


def _current_user(text: str, image_file_ids: Sequence[str]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": text}]
    parts.extend({"type": "input_image", "file_id": file_id} for file_id in image_file_ids)
    return {"type": "message", "role": "user", "content": parts}


def _input_items(plan: ContextPlan, *, plain_assistant: bool) -> list[dict[str, Any]]:
    items = [_responses_message(m, plain_assistant=plain_assistant) for m in plan.history]
    items.append(_current_user(plan.user_text, plan.image_file_ids))
    return items


def build_responses_body(
    plan: ContextPlan,
    model: ModelCatalogEntry,
    *,
    chat_id: UUID,
    user: str | None = None,
) -> dict[str, Any]:
    """Responses API (``openai_responses``, ``azure_openai_responses``): ``user`` is ``"{tenant_id}:{user_id}"``."""
    params = model.general_config.api_params
    body: dict[str, Any] = {
        "model": model.provider_model_id,
        "input": _input_items(plan, plain_assistant=False),
    }
    if plan.instructions:
        body["instructions"] = plan.instructions
    body.update(
        stream=True,
        store=False,
        max_output_tokens=plan.max_output_tokens,
        max_tool_calls=model.max_tool_calls,
    )
    tools = responses_tools(plan.tools)
    if tools:
        body["tools"] = tools
    body["metadata"] = {
        "chat_id": str(chat_id),
        "request_type": "chat",
        "features": ",".join(plan.tools.features),
    }
    if user:
        body["user"] = user
    body.update(_api_params(params, chat=False))
    return _merge_extra(body, params)


def build_vllm_body(plan: ContextPlan, model: ModelCatalogEntry) -> dict[str, Any]:
    """vLLM Responses shape: assistant content as a plain string; no tools, metadata, store or max_tool_calls."""
    params = model.general_config.api_params
    body: dict[str, Any] = {
        "model": model.provider_model_id,
        "input": _input_items(plan, plain_assistant=True),
    }
    if plan.instructions:
        body["instructions"] = plan.instructions
    body.update(stream=True, max_output_tokens=plan.max_output_tokens)
    body.update(_api_params(params, chat=False))
    return _merge_extra(body, params)


def build_chat_completions_body(plan: ContextPlan, model: ModelCatalogEntry) -> dict[str, Any]:
    """Chat Completions: system first, plain-text messages, usage in the stream; no hosted tools or images."""
    params = model.general_config.api_params
    messages: list[dict[str, Any]] = []
    if plan.instructions:
        messages.append({"role": "system", "content": plan.instructions})
    messages.extend({"role": m.role, "content": m.content} for m in plan.history)
    messages.append({"role": "user", "content": plan.user_text})
    body: dict[str, Any] = {
        "model": model.provider_model_id,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_completion_tokens": plan.max_output_tokens,
    }
    body.update(_api_params(params, chat=True))
    return _merge_extra(body, params)


def build_request_body(
    provider_kind: str, plan: ContextPlan, model: ModelCatalogEntry, *, chat_id: UUID, user: str | None = None
) -> dict[str, Any]:
    """Dispatch on ``providers.<id>.kind``."""
    if provider_kind in ("openai_responses", "azure_openai_responses"):
        return build_responses_body(plan, model, chat_id=chat_id, user=user)
    if provider_kind == "vllm_responses":
        return build_vllm_body(plan, model)
    if provider_kind == "openai_chat_completions":
        return build_chat_completions_body(plan, model)
    raise ValueError(f"unknown provider kind {provider_kind!r}")


def build_summary_body(
    provider_kind: str, model: ModelCatalogEntry, *, instructions: str, text: str, chat_id: UUID
) -> dict[str, Any]:
    """The thread-summary call (CI-9.3 step 4): the prompt as instructions, the range as one user message, no
    tools; the adapter makes it non-streaming."""
    if provider_kind == "openai_chat_completions":
        return {
            "model": model.provider_model_id,
            "messages": [{"role": "system", "content": instructions}, {"role": "user", "content": text}],
            "max_completion_tokens": model.max_output_tokens,
        }
    if provider_kind not in ("openai_responses", "azure_openai_responses", "vllm_responses"):
        raise ValueError(f"unknown provider kind {provider_kind!r}")
    body: dict[str, Any] = {
        "model": model.provider_model_id,
        "instructions": instructions,
        "input": [{"role": "user", "content": text}],
        "max_output_tokens": model.max_output_tokens,
    }
    if provider_kind != "vllm_responses":
        body["store"] = False
        body["metadata"] = {"chat_id": str(chat_id), "request_type": "thread_summary"}
    return body
