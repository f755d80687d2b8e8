"""Scripted PDPs for PEP tests: they answer what the test says and record what they were asked."""

from __future__ import annotations

import asyncio

from fabrikit.modules.authz_resolver.sdk import EvaluationRequest, EvaluationResponse


class ScriptedPdp:
    def __init__(self, response: EvaluationResponse) -> None:
        self.response = response
        self.requests: list[EvaluationRequest] = []

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse:
        self.requests.append(request)
        return self.response


class FailingPdp:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse:
        raise self.exc


class HangingPdp:
    """Never answers, so the PEP's own timeout must end the call."""

    async def evaluate(self, request: EvaluationRequest) -> EvaluationResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")
