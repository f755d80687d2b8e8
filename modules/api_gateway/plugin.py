"""Entry point of the api-gateway distribution slice."""

from __future__ import annotations

from fabrikit.kernel import Module, hookimpl

from .module import ApiGateway


@hookimpl
def fabrikit_modules() -> list[type[Module]]:
    return [ApiGateway]
