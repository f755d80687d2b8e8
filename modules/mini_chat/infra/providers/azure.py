"""Azure OpenAI Responses (``azure_openai_responses``; CI-13.5).

The wire format is OpenAI's. What differs is transport, handled by config and provisioning: the deployment path
``/openai/deployments/{model}/responses?api-version=…`` (the resolver adds ``api-version`` from
``api_version`` when the path lacks it), the ``api-key`` header through the oagw apikey plugin, and storage under
``/openai/…?api-version=`` without file-search filters.
"""

from __future__ import annotations

from .openai_responses import ResponsesWire


class AzureResponsesWire(ResponsesWire):
    pass
