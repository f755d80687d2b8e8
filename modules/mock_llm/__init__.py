"""mock-llm: an OpenAI-compatible fake provider on loopback (spec: mock-llm.md)."""

from .sdk import MockLlmClient, MockLlmConfig, MockLlmServer, PortInUseError, ScriptEntry

__all__ = ["MockLlmClient", "MockLlmConfig", "MockLlmServer", "PortInUseError", "ScriptEntry"]
