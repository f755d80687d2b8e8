"""Config value types (K-4.7): ``Duration``, ``ByteSize`` and the ``ConfigStruct`` base."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, dataclass_transform

import msgspec

from fabrikit.kernel.security import Secret, secret_dec_hook

if TYPE_CHECKING:
    # msgspec's `kw_only` covers only the fields of the class that sets it, and mypy reads `frozen` the same
    # way; the metaclass below makes both hold for every subclass at run time, this tells type checkers.
    @dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(msgspec.field,))
    class ConfigStruct(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
        """Base of every module and plugin config."""

else:

    class _ConfigStructMeta(msgspec.StructMeta):
        def __new__(
            mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
        ) -> Any:
            kwargs.setdefault("kw_only", True)
            return super().__new__(mcls, name, bases, namespace, **kwargs)

    class ConfigStruct(msgspec.Struct, metaclass=_ConfigStructMeta, forbid_unknown_fields=True, frozen=True):
        """Base of every module and plugin config: keyword-only, unknown keys rejected, immutable (also in
        subclasses: ``class MyConfig(ConfigStruct): ...``).

        A subclass may define ``validate(self) -> None`` raising ``ValueError`` (``InvalidConfigValue`` names one
        field; an ``ExceptionGroup`` of them reports several); ``convert_config`` calls it after conversion,
        nested structs first.
        """


class InvalidConfigValue(ValueError):
    """Raised from ``validate()`` to blame one field: reported as ``<struct path>.<field>: <message>``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {
    "ms": Decimal("0.001"),
    "s": Decimal(1),
    "m": Decimal(60),
    "h": Decimal(3600),
    None: Decimal(1),
}


class Duration(float):
    """Non-negative seconds; config accepts ``30``, ``2.5``, ``"250ms"``, ``"30s"``, ``"5m"``, ``"1h"``."""

    __slots__ = ()

    @classmethod
    def parse(cls, value: Any) -> Duration:
        if isinstance(value, Duration):
            return value
        if isinstance(value, bool):
            raise ValueError(f"Expected a duration (seconds or '<n>ms|s|m|h'), got {_describe(value)}")
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str) and (m := _DURATION_RE.match(value)):
            seconds = float(Decimal(m.group(1)) * _DURATION_UNITS[m.group(2)])
        else:
            raise ValueError(f"Expected a duration (seconds or '<n>ms|s|m|h'), got {_describe(value)}")
        if seconds < 0 or seconds != seconds or seconds == float("inf"):
            raise ValueError(f"a duration must be a finite number of seconds >= 0, got {_describe(value)}")
        return cls(seconds)

    def __repr__(self) -> str:
        return f"Duration({float(self)!r})"


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


class ByteSize(int):
    """A non-negative number of bytes; config accepts ``1048576``, ``"512KiB"``, ``"10MiB"``, ``"1GB"``."""

    __slots__ = ()

    @classmethod
    def parse(cls, value: Any) -> ByteSize:
        if isinstance(value, ByteSize):
            return value
        if isinstance(value, bool):
            raise ValueError(f"Expected a byte size (bytes or e.g. '10MiB', '1GB'), got {_describe(value)}")
        if isinstance(value, int):
            size = value
        elif isinstance(value, float) and value.is_integer():
            size = int(value)
        elif isinstance(value, str) and (m := _SIZE_RE.match(value)):
            try:
                exact = Decimal(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()]
            except InvalidOperation:  # pragma: no cover - the regex admits only decimals
                exact = Decimal(-1)
            if exact != exact.to_integral_value():
                raise ValueError(f"a byte size must be a whole number of bytes, got {_describe(value)}")
            size = int(exact)
        else:
            raise ValueError(f"Expected a byte size (bytes or e.g. '10MiB', '1GB'), got {_describe(value)}")
        if size < 0:
            raise ValueError(f"a byte size must be >= 0, got {_describe(value)}")
        return cls(size)

    def __repr__(self) -> str:
        return f"ByteSize({int(self)})"


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
    return (
        f"{type(value).__name__} {value!r}" if isinstance(value, bool | int | float) else type(value).__name__
    )


DecHook = Callable[[type, Any], Any]


def config_dec_hook(tp: type, obj: Any) -> Any:
    """msgspec ``dec_hook`` for config types: ``Duration``, ``ByteSize``, ``Secret``, ``pathlib.Path``."""
    if tp is Duration:
        return Duration.parse(obj)
    if tp is ByteSize:
        return ByteSize.parse(obj)
    if tp is Secret:
        if not isinstance(obj, str | Secret):
            # YAML reads an unquoted 0123 as a number, so a numeric secret must be quoted to survive intact.
            raise ValueError(f"Expected a string (quote numeric secrets), got {type(obj).__name__}")
        return secret_dec_hook(tp, obj)
    if isinstance(tp, type) and issubclass(tp, pathlib.PurePath):
        if isinstance(obj, tp):
            return obj
        if isinstance(obj, str):
            return tp(obj)
        raise ValueError(f"Expected a path string, got {_describe(obj)}")
    raise NotImplementedError(f"unsupported config type {tp!r}")


def chain_dec_hooks(extra: DecHook | None) -> DecHook:
    """``config_dec_hook`` first, then a caller's hook for its own types."""
    if extra is None:
        return config_dec_hook

    def hook(tp: type, obj: Any) -> Any:
        try:
            return config_dec_hook(tp, obj)
        except NotImplementedError:
            return extra(tp, obj)

    return hook
