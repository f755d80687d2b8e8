"""vLLM's Responses endpoint (``vllm_responses``; CI-13.7): the Responses shape with ``<think>`` reasoning."""

from __future__ import annotations

from .openai_responses import ResponsesWire


class VllmResponsesWire(ResponsesWire):
    """``<think>…</think>`` streams as ``ReasoningDelta`` (tags split across chunks are buffered) and is left out
    of ``complete()`` text. The body itself comes from ``provider_requests.build_vllm_body``."""

    think_tags = True
