"""Keep pydantic out of every smlite command's start-up.

Typer (0.2x) coerces each command-line value through a pydantic
``TypeAdapter``; importing pydantic and building the adapters costs 0.2-0.3 s
per command on a small machine, longer than smlite's own work on a typical
model.  smlite's parameters are plain ``str``, ``bool``, ``int``, ``list[str]``
and ``Enum`` values, so this module puts a small coercer in front of Typer's:
a value that is already of the right type (or a plain choice / decimal
integer) is accepted as is, and anything else is handed to Typer's own
coercion, so every error message stays Typer's.

Typer's coercion hook is private; if it is not where this module expects it,
nothing is changed and Typer works as before (only slower).
"""

from __future__ import annotations

import re
import types
import typing
from enum import Enum
from typing import Any

_INT = re.compile(r"[+-]?[0-9]{1,18}")


def install() -> bool:
    """Wrap Typer's runtime-coercion builder once; True when the fast path is in place.

    False (and nothing changed) when Typer's internals moved: pyproject.toml pins
    the Typer releases this is tested on, and tests/core/test_cli_startup.py fails
    on a release where it would silently not be installed.
    """
    try:
        from typer import _coercion, core
        from typer._param_types import coerce_cli_choice

        original = core.build_runtime_param
        base = _coercion.RuntimeParam
    except (ImportError, AttributeError):
        return False
    if getattr(original, "_smlite_fast", False):
        return True

    class _FastParam(base):  # type: ignore[misc,valid-type]
        """Accepts values it can check exactly; defers everything else to Typer."""

        def __init__(self, descriptor: Any) -> None:
            super().__init__(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
            object.__setattr__(self, "_descriptor", descriptor)
            object.__setattr__(self, "_slow", None)

        def _fallback(self, value: Any, param: Any, ctx: Any) -> Any:
            slow = self.__dict__.get("_slow")
            if slow is None:
                slow = original(self.__dict__["_descriptor"])
                object.__setattr__(self, "_slow", slow)
            return slow._coerce_value(value, param=param, ctx=ctx)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            fast = _fast_value(self.annotation, self.parameter_info, value, coerce_cli_choice, ctx)
            if fast is _NO:
                return self._fallback(value, param, ctx)
            return fast

    def build(descriptor: Any) -> Any:
        if descriptor.file_annotation is None and _supported(
            descriptor.annotation, descriptor.parameter_info
        ):
            return _FastParam(descriptor)
        return original(descriptor)

    build._smlite_fast = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
    return True


_NO = object()


def _optional(annotation: Any) -> Any:
    """``X`` of ``X | None`` (or ``Optional[X]``); None for any other annotation."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0]
    return None


def _supported(annotation: Any, info: Any) -> bool:
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return False
    inner = _optional(annotation)
    if inner is not None:
        return _supported(inner, info)
    if annotation in (str, bool, int):
        return True
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return True
    return getattr(annotation, "__origin__", None) is list and annotation.__args__ == (str,)


def _fast_value(annotation: Any, info: Any, value: Any, choose: Any, ctx: Any) -> Any:
    """The coerced value, or ``_NO`` when Typer's own coercion must decide."""
    inner = _optional(annotation)
    if inner is not None:
        return None if value is None else _fast_value(inner, info, value, choose, ctx)
    if annotation is str:
        return value if isinstance(value, str) else _NO
    if annotation is bool:
        return value if isinstance(value, bool) else _NO
    if annotation is int:
        if isinstance(value, str) and _INT.fullmatch(value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            return _NO
        # Out of an option's range: Typer's coercion words the error (or clamps).
        if (info.min is not None and value < info.min) or (
            info.max is not None and value > info.max
        ):
            return _NO
        return value
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return choose(
                value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx
            )
        except ValueError:
            return _NO
    # list[str]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return _NO
