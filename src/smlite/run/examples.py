"""``--input_examples``: lists of feature dicts to serialized ``tf.train.Example`` protos.

``'inputs=[{"x": [1.0, 2.0], "id": [7]}, {"x": [0.5, 0.5], "id": [8]}]'``
feeds the input ``inputs`` with two serialized Examples.  The value is parsed
as a Python literal (nothing is evaluated) and each feature list becomes a
``Feature`` whose kind follows its first item, as in saved_model_cli:
``float`` -> ``float_list``, ``int`` (and ``bool``) -> ``int64_list``,
``str`` (UTF-8 encoded) or ``bytes`` -> ``bytes_list``.  Messages are
smlite's own wire-compatible ``pb.Example``; TensorFlow is not needed.
"""

from __future__ import annotations

from typing import Any

from smlite import pb
from smlite.run.input_exprs import parse_literal
from smlite.run.inputs import InputError, refuse_repeated_keys, split_assignments

__all__ = ["create_example", "parse_input_examples"]

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _feature(name: str, values: Any, where: str) -> pb.Feature:
    if not isinstance(values, list):
        raise InputError(
            f"{where}: feature {name!r} must be a list of values, got "
            f"{type(values).__name__} {values!r}"
        )
    if not values:
        raise InputError(
            f"{where}: feature {name!r} is an empty list; its type (float, int or string) "
            "cannot be told from it"
        )
    first = values[0]
    feature = pb.Feature()
    if isinstance(first, float):
        bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
        if bad:
            raise InputError(f"{where}: feature {name!r} is a float list but holds {bad[0]!r}")
        feature.float_list.value.extend(float(v) for v in values)
    elif isinstance(first, (str, bytes)):
        bad = [v for v in values if not isinstance(v, (str, bytes))]
        if bad:
            raise InputError(f"{where}: feature {name!r} is a string list but holds {bad[0]!r}")
        try:
            encoded = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
        except UnicodeEncodeError as e:
            raise InputError(f"{where}: feature {name!r}: a string is not valid UTF-8: {e}") from e
        feature.bytes_list.value.extend(encoded)
    elif isinstance(first, int):
        bad = [v for v in values if not isinstance(v, int) or not _INT64_MIN <= v <= _INT64_MAX]
        if bad:
            raise InputError(f"{where}: feature {name!r} is an int64 list but holds {bad[0]!r}")
        feature.int64_list.value.extend(int(v) for v in values)
    else:
        raise InputError(
            f"{where}: feature {name!r}: values of type {type(first).__name__} ({first!r}) "
            "cannot go into a tf.train.Feature; use floats, ints or strings"
        )
    return feature


def create_example(features: Any, *, where: str = "--input_examples") -> bytes:
    """Serialize one ``{feature_name: [values]}`` dict as a ``tf.train.Example``.

    >>> ex = pb.Example.FromString(create_example({"x": [1.5], "w": ["a"]}))
    >>> ex.features.feature["x"].float_list.value[0], ex.features.feature["w"].bytes_list.value[0]
    (1.5, b'a')
    """
    if not isinstance(features, dict):
        raise InputError(
            f"{where}: each tf.Example must be a dict of feature lists, got "
            f"{type(features).__name__} {features!r}"
        )
    example = pb.Example()
    for name, values in features.items():
        if not isinstance(name, str):
            raise InputError(f"{where}: feature names must be strings, got {name!r}")
        example.features.feature[name].CopyFrom(_feature(name, values, where))
    return example.SerializeToString()


def parse_input_examples(text: str) -> dict[str, list[bytes]]:
    """Parse ``--input_examples``: ``'<key>=[{feature: [values], ...}, ...]'``, ``;``-separated.

    Returns each key's list of serialized Examples.

    >>> parse_input_examples('inputs=[{"x": [1.0]}]')["inputs"][0].hex()
    '0a0f0a0d0a0178120812060a040000803f'
    """
    pairs = split_assignments(text, "--input_examples")
    refuse_repeated_keys(pairs, "--input_examples")
    found: dict[str, list[bytes]] = {}
    for key, expr in pairs:
        where = f"--input_examples {key}"
        value = parse_literal(expr, allow_numpy=False, what=f"{where}:")
        if not isinstance(value, list):
            raise InputError(
                f"{where}: a tf.Example input must be a list of dicts, got "
                f"{type(value).__name__} {value!r}"
            )
        found[key] = [create_example(item, where=where) for item in value]
    return found
