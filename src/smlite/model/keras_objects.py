"""What one serialized Keras object means: a Lambda's callables, a custom class.

Keras' JSON describes every object as ``{"class_name": ..., "config": ...}``.  Two kinds
need code from outside the model when tf-keras loads it, and are read here once for the
view (:mod:`smlite.model.keras`) and the findings (:mod:`smlite.model.keras_findings`):

* a ``Lambda`` layer's ``function`` / ``output_shape`` / ``mask``: Python bytecode
  (``*_type: "lambda"``, ``base64(marshal.dumps(code))``, read by
  :mod:`smlite.formats.marshal_reader` and never loaded), or a function looked up by name
  in a module (``"function"``), or a plain value (``"raw"``);
* a registered class that is not Keras' own (:func:`custom_class`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smlite.formats import keras_metadata as km_format
from smlite.formats.marshal_reader import CodeObject, MarshalError, read_code

__all__ = [
    "KERAS_MODULES",
    "KERAS_REGISTERED_NAMES",
    "LambdaFunction",
    "custom_class",
    "is_keras_module",
    "lambda_functions",
]

JSON = Any

#: Modules whose classes and functions are Keras' own.
KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras")
#: Names Keras itself registers with ``register_keras_serializable`` (package "Custom"):
#: tf-keras 2.21's optimizers and one application layer.  The TF tier compares this with
#: tf-keras's registry.  Any other ``Package>Name`` class is a user's registered class.
KERAS_REGISTERED_NAMES = frozenset(
    f"Custom>{name}"
    for name in (
        "Adadelta",
        "Adafactor",
        "Adagrad",
        "Adam",
        "AdamW",
        "Adamax",
        "CustomScaleLayer",
        "Ftrl",
        "Lion",
        "Nadam",
        "RMSprop",
        "SGD",
        "SharpnessAwareMinimization",
    )
)
#: (role, function key, type key, module key) of a Lambda config.
_LAMBDA_ROLES = (
    ("function", "function", "function_type", "module"),
    ("output_shape", "output_shape", "output_shape_type", "output_shape_module"),
    ("mask", "mask", "mask_type", "mask_module"),
)


def is_keras_module(module: str) -> bool:
    """True for ``keras``, ``tf_keras``, ``tensorflow.keras`` and their submodules."""
    return any(module == m or module.startswith(m + ".") for m in KERAS_MODULES)


def custom_class(obj: Mapping[str, JSON]) -> str | None:
    """The registered name of a serialized object whose class is not Keras', else None.

    Keras' legacy format names a registered class ``Package>Name``; its newer format adds
    ``module`` (and ``registered_name``).  Unregistered classes (a subclassed model) are
    revived by tf-keras without their code and are not reported.
    """
    class_name = obj.get("class_name")
    if not isinstance(class_name, str):
        return None
    module = obj.get("module")
    if isinstance(module, str) and module and not is_keras_module(module):
        registered = obj.get("registered_name")
        return registered if isinstance(registered, str) and registered else class_name
    if ">" in class_name and class_name not in KERAS_REGISTERED_NAMES:
        return class_name
    return None


@dataclass(frozen=True, slots=True)
class LambdaFunction:
    """One callable of a Lambda layer: its ``function``, ``output_shape`` or ``mask``.

    ``kind`` is Keras' ``*_type``: ``"lambda"`` (Python bytecode, decoded into ``code``,
    or ``error`` says why it could not be), ``"function"`` (a function looked up by
    ``name``, with ``module``), ``"raw"`` (a plain value such as a shape).
    """

    role: str
    kind: str
    module: str | None = None
    name: str | None = None
    code: CodeObject | None = None
    payload_size: int = 0
    error: str | None = None

    @property
    def has_bytecode(self) -> bool:
        return self.kind == "lambda"


def _code_text(value: JSON) -> str | None:
    """The base64 code of ``func_dump``'s ``(code, defaults, closure)`` as Keras stores it."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):  # {"class_name": "__tuple__", "items": [...]}
        value = value.get("items")
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return value[0]
    return None


def lambda_functions(config: Mapping[str, JSON]) -> tuple[LambdaFunction, ...]:
    """The callables a ``Lambda`` layer's config holds (roles without a value are left out)."""
    found = []
    for role, key, type_key, module_key in _LAMBDA_ROLES:
        kind = config.get(type_key)
        if not isinstance(kind, str) or (role != "function" and config.get(key) is None):
            continue
        module = config.get(module_key)
        module = module if isinstance(module, str) else None
        value = config.get(key)
        if kind == "function":
            name = value if isinstance(value, str) else None
            found.append(LambdaFunction(role, kind, module=module, name=name))
        elif kind == "lambda":
            found.append(_decoded(role, module, value))
        else:
            found.append(LambdaFunction(role, kind, module=module))
    return tuple(found)


def _decoded(role: str, module: str | None, value: JSON) -> LambdaFunction:
    text = _code_text(value)
    if text is None:
        return LambdaFunction(
            role, "lambda", module=module, error="the function is not a (code, ...) triple"
        )
    payload = km_format.function_payload(text)
    try:
        code = read_code(payload)
    except MarshalError as e:
        return LambdaFunction(
            role, "lambda", module=module, payload_size=len(payload), error=str(e)
        )
    return LambdaFunction(
        role, "lambda", module=module, name=code.name, code=code, payload_size=len(payload)
    )
