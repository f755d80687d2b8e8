"""A string that never prints itself (K-4.7, P-0.2)."""

from __future__ import annotations

from typing import Any

REDACTED = "[REDACTED]"


class Secret:
    """Wraps a secret string: ``repr``/``str`` give ``[REDACTED]``; msgspec refuses to encode it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("Secret cannot be pickled")


def secret_dec_hook(tp: type, obj: Any) -> Any:
    """msgspec ``dec_hook`` that builds ``Secret`` values from config strings."""
    if tp is Secret:
        if isinstance(obj, Secret):
            return obj
        if isinstance(obj, str):
            return Secret(obj)
        raise TypeError(f"Expected `str`, got `{type(obj).__name__}`")
    raise NotImplementedError(f"unsupported type {tp!r}")


def refuse_secret_enc_hook(obj: Any) -> Any:
    if isinstance(obj, Secret):
        raise TypeError("refusing to encode a Secret")
    raise NotImplementedError(f"Encoding objects of type {type(obj).__name__} is unsupported")
