"""``--input_exprs``: Python literals and numpy constructors, built without evaluating them.

``'x=[[1.0, 2.0]];y=np.ones((2, 3), dtype="int32")'``: each expression is
parsed with :mod:`ast` and its tree walked; only literals, ``np.nan``,
``np.inf``, ``np.pi``, ``np.e`` and one call of :data:`ALLOWED_FUNCTIONS`
with literal arguments are accepted, and smlite builds the value itself after
checking its size against :data:`MAX_ELEMENTS` (see :mod:`smlite.run.inputs`).
``--input_examples`` reads its values with :func:`parse_literal` too.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from smlite.run.inputs import InputError, refuse_repeated_keys, split_assignments

__all__ = [
    "ALLOWED_DTYPES",
    "ALLOWED_FUNCTIONS",
    "MAX_ELEMENTS",
    "parse_input_exprs",
    "parse_literal",
]

#: Largest number of elements a numpy constructor in ``--input_exprs`` may build.
MAX_ELEMENTS = 10_000_000

#: dtype spellings accepted in ``dtype=...`` (as a string or ``np.<name>``).
ALLOWED_DTYPES: frozenset[str] = frozenset(
    {
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
        "str",
        "bytes",
        "bool_",
        "str_",
        "bytes_",
        "half",
        "single",
        "double",
        "int",
        "float",
        "complex",
    }
)

# numpy constants that may stand where a number may.
_CONSTANTS: dict[str, float] = {
    "nan": math.nan,
    "inf": math.inf,
    "pi": math.pi,
    "e": math.e,
}

_MODULE_NAMES = ("np", "numpy")


@dataclass(frozen=True, slots=True)
class _Signature:
    """Parameters of an allowed numpy constructor: positional order and defaults."""

    params: tuple[str, ...]
    required: int
    defaults: Mapping[str, Any]


#: The numpy constructors ``--input_exprs`` may call, with their parameters.
ALLOWED_FUNCTIONS: Mapping[str, _Signature] = {
    "array": _Signature(("object", "dtype"), 1, {"dtype": None}),
    "asarray": _Signature(("a", "dtype"), 1, {"dtype": None}),
    "zeros": _Signature(("shape", "dtype"), 1, {"dtype": None}),
    "ones": _Signature(("shape", "dtype"), 1, {"dtype": None}),
    "full": _Signature(("shape", "fill_value", "dtype"), 2, {"dtype": None}),
    "arange": _Signature(
        ("start", "stop", "step", "dtype"), 1, {"stop": None, "step": None, "dtype": None}
    ),
    "linspace": _Signature(
        ("start", "stop", "num", "endpoint", "dtype"),
        2,
        {"num": 50, "endpoint": True, "dtype": None},
    ),
    "eye": _Signature(("N", "M", "k", "dtype"), 1, {"M": None, "k": 0, "dtype": None}),
}

_ALLOWED_SUMMARY = (
    "allowed are Python literals (numbers, strings, bytes, True/False/None, lists, tuples, "
    "dicts), the constants np.nan, np.inf, np.pi, np.e, and one call of "
    + ", ".join(f"np.{name}" for name in ALLOWED_FUNCTIONS)
    + " with literal arguments and an optional dtype='float32' (or dtype=np.float32)"
)


class _Rejected(Exception):
    """Internal: a node outside the allowed grammar (turned into an InputError)."""

    def __init__(self, node: ast.AST, what: str, *, complete: bool = False) -> None:
        super().__init__(what)
        self.node = node
        self.what = what
        # A complete message is a sentence of its own (a limit, a bad argument), not a
        # construct outside the grammar.
        self.complete = complete


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Name: "a name",
        ast.Attribute: "attribute access",
        ast.Call: "a function call",
        ast.Lambda: "a lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a generator expression",
        ast.Subscript: "subscripting",
        ast.UnaryOp: "an operator",
        ast.BinOp: "arithmetic",
        ast.BoolOp: "a boolean operator",
        ast.Compare: "a comparison",
        ast.IfExp: "a conditional expression",
        ast.NamedExpr: "an assignment expression",
        ast.JoinedStr: "an f-string",
        ast.Starred: "unpacking",
        ast.Set: "a set",
        ast.Await: "await",
        ast.Yield: "yield",
    }
    for cls, text in kinds.items():
        if isinstance(node, cls):
            return text
    return type(node).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, complex)) and not isinstance(value, bool)


class _LiteralBuilder:
    """Build the value of an allowed expression tree; reject everything else."""

    def __init__(self, allow_numpy: bool) -> None:
        self.allow_numpy = allow_numpy

    def literal(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            if node.value is Ellipsis:
                raise _Rejected(node, "'...'")
            return node.value
        if isinstance(node, ast.List):
            return [self.literal(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.literal(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise _Rejected(node, "'**' unpacking")
            out = {}
            for k, v in zip(node.keys, node.values, strict=True):
                key = self.literal(k)  # type: ignore[arg-type]
                if not isinstance(key, (str, bytes, int, float, tuple)):
                    raise _Rejected(k, "a dict key that is not a string or number")  # type: ignore[arg-type]
                out[key] = self.literal(v)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = self.literal(node.operand)
            if not _is_number(operand):
                raise _Rejected(node, "a sign on something that is not a number")
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            # Only the complex literal form ``1+2j`` / ``-1.5-0.5j``, as ast.literal_eval.
            left = self.literal(node.left)
            right = self.literal(node.right)
            if (
                isinstance(left, (int, float))
                and not isinstance(left, bool)
                and isinstance(right, complex)
                and isinstance(node.right, ast.Constant)
            ):
                return left + right if isinstance(node.op, ast.Add) else left - right
            raise _Rejected(node, "arithmetic (only complex literals such as 1+2j are allowed)")
        if isinstance(node, ast.Attribute) and self.allow_numpy:
            name = _numpy_attribute(node)
            if name in _CONSTANTS:
                return _CONSTANTS[name]
            raise _Rejected(node, f"attribute access {_attr_text(node)}")
        raise _Rejected(node, _describe(node))

    # -- numpy constructors ---------------------------------------------------
    def top(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Call) and self.allow_numpy:
            return self.call(node)
        return self.literal(node)

    def call(self, node: ast.Call) -> np.ndarray:
        if not isinstance(node.func, ast.Attribute):
            raise _Rejected(node.func, f"calling {_describe(node.func)}")
        fname = _numpy_attribute(node.func)
        sig = ALLOWED_FUNCTIONS.get(fname or "")
        if fname is None or sig is None:
            raise _Rejected(node.func, f"calling {_attr_text(node.func)}")
        args: dict[str, Any] = {}
        if len(node.args) > len(sig.params):
            raise _Rejected(node, f"np.{fname} with {len(node.args)} positional arguments")
        for param, arg in zip(sig.params, node.args, strict=False):
            if isinstance(arg, ast.Starred):
                raise _Rejected(arg, "unpacking")
            args[param] = self.argument(param, arg)
        for kw in node.keywords:
            if kw.arg is None:
                raise _Rejected(node, "'**' unpacking")
            if kw.arg not in sig.params:
                raise _Rejected(node, f"keyword argument {kw.arg!r} of np.{fname}")
            if kw.arg in args:
                raise _Rejected(node, f"np.{fname} argument {kw.arg!r} given twice")
            args[kw.arg] = self.argument(kw.arg, kw.value)
        missing = [p for p in sig.params[: sig.required] if p not in args]
        if missing:
            raise _Rejected(node, f"np.{fname} without its argument {missing[0]!r}")
        for param, default in sig.defaults.items():
            args.setdefault(param, default)
        return _build(fname, args, node)

    def argument(self, param: str, node: ast.AST) -> Any:
        if param == "dtype":
            return _dtype_argument(node)
        return self.literal(node)


def _numpy_attribute(node: ast.Attribute) -> str | None:
    """``x`` for ``np.x``/``numpy.x``; None for any other attribute expression."""
    if isinstance(node.value, ast.Name) and node.value.id in _MODULE_NAMES:
        return node.attr
    return None


def _attr_text(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # unparse of an odd tree: describe it instead
        return _describe(node)


def _dtype_argument(node: ast.AST) -> np.dtype | None:
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        name = node.value
    elif isinstance(node, ast.Attribute) and _numpy_attribute(node) is not None:
        name = node.attr
    else:
        raise _Rejected(node, "a dtype that is not a string such as 'float32'")
    if name not in ALLOWED_DTYPES:
        listed = ", ".join(sorted(ALLOWED_DTYPES))
        raise _Rejected(
            node, f"dtype {name!r} is not accepted; choose one of: {listed}", complete=True
        )
    return np.dtype(name.removesuffix("_") if name in ("bool_", "str_", "bytes_") else name)


def _as_int(value: Any, what: str, node: ast.AST) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Rejected(node, f"{what} that is not an integer")
    return value


def _shape(value: Any, node: ast.AST) -> tuple[int, ...]:
    dims = value if isinstance(value, (tuple, list)) else (value,)
    shape = tuple(_as_int(d, "a shape", node) for d in dims)
    if any(d < 0 for d in shape):
        raise _Rejected(node, f"a negative dimension in shape {shape}", complete=True)
    return shape


def _bounded(count: float, node: ast.AST, fname: str) -> None:
    if not count <= MAX_ELEMENTS:  # also catches nan
        shown = int(count) if math.isfinite(count) else count
        raise _Rejected(
            node,
            f"np.{fname} would make {shown} elements; at most {MAX_ELEMENTS} are allowed",
            complete=True,
        )


def _real(value: Any, what: str, node: ast.AST) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Rejected(node, f"{what} that is not a real number")
    return value


def _build(fname: str, args: Mapping[str, Any], node: ast.Call) -> np.ndarray:
    """Call the numpy constructor ``fname`` after bounding the array it makes."""
    dtype = args["dtype"]
    try:
        if fname in ("array", "asarray"):
            value = args.get("object", args.get("a"))
            # A literal's size is bounded by the command line; no size check needed.
            array = np.array(value, dtype=dtype)
            if array.dtype.hasobject:
                raise _Rejected(node, f"np.{fname} of values numpy can only hold as objects")
            return array
        if fname in ("zeros", "ones", "full"):
            shape = _shape(args["shape"], node)
            _bounded(math.prod(shape), node, fname)
            if fname == "zeros":
                return np.zeros(shape, dtype=dtype)
            if fname == "ones":
                return np.ones(shape, dtype=dtype)
            fill = args["fill_value"]
            if isinstance(fill, (list, tuple, dict)):
                raise _Rejected(node, "np.full with a fill_value that is not a scalar")
            return np.full(shape, fill, dtype=dtype)
        if fname == "arange":
            start, stop, step = args["start"], args["stop"], args["step"]
            if stop is None:
                start, stop = 0, start
            step = 1 if step is None else step
            start = _real(start, "an arange start", node)
            stop = _real(stop, "an arange stop", node)
            step = _real(step, "an arange step", node)
            if step == 0 or not all(math.isfinite(x) for x in (start, stop, step)):
                raise _Rejected(node, "np.arange with a zero or non-finite argument", complete=True)
            _bounded(max(0.0, math.ceil((stop - start) / step)), node, fname)
            return np.arange(start, stop, step, dtype=dtype)
        if fname == "linspace":
            num = _as_int(args["num"], "a linspace num", node)
            if num < 0:
                raise _Rejected(node, "np.linspace with a negative num", complete=True)
            _bounded(num, node, fname)
            endpoint = args["endpoint"]
            if not isinstance(endpoint, bool):
                raise _Rejected(node, "np.linspace with an endpoint that is not True/False")
            for key in ("start", "stop"):
                if not _is_number(args[key]):
                    raise _Rejected(node, f"np.linspace with a {key} that is not a number")
            return np.linspace(args["start"], args["stop"], num, endpoint=endpoint, dtype=dtype)
        if fname == "eye":
            n = _as_int(args["N"], "an eye size", node)
            m = n if args["M"] is None else _as_int(args["M"], "an eye size", node)
            k = _as_int(args["k"], "an eye diagonal", node)
            if n < 0 or m < 0:
                raise _Rejected(node, "np.eye with a negative size", complete=True)
            _bounded(n * m, node, fname)
            return np.eye(n, m, k, dtype=dtype if dtype is not None else float)
    except (ValueError, TypeError, OverflowError) as e:
        raise _Rejected(node, f"np.{fname} arguments numpy refuses ({e})", complete=True) from e
    raise _Rejected(node, f"calling np.{fname}")  # pragma: no cover - table and code agree


def parse_literal(text: str, *, allow_numpy: bool = False, what: str = "expression") -> Any:
    """The value of one expression from the command line, built without evaluating it.

    With ``allow_numpy`` the expression may also be a single call of one of
    :data:`ALLOWED_FUNCTIONS` (``np.ones((2, 3), dtype='float32')``) and use
    ``np.nan``/``np.inf``/``np.pi``/``np.e``.  Anything else raises
    :class:`InputError` naming the offending part and what is allowed.

    >>> parse_literal("[1, -2.5, 1+2j, 'a']")
    [1, -2.5, (1+2j), 'a']
    >>> parse_literal("np.zeros(3, dtype='int32')", allow_numpy=True)
    array([0, 0, 0], dtype=int32)
    """
    source = text.strip(" \t\r\n")
    shown = source if len(source) <= 80 else source[:77] + "..."
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise InputError(f"{what} {shown!r} is not valid Python syntax: {e.msg}") from e
    except (ValueError, MemoryError, RecursionError) as e:
        reason = str(e) or "it is nested too deeply"
        raise InputError(f"{what} {shown!r} cannot be parsed: {reason}") from e
    builder = _LiteralBuilder(allow_numpy)
    try:
        return builder.top(tree.body)
    except _Rejected as e:
        if e.complete:
            raise InputError(f"{what} {shown!r}: {e.what}") from None
        where = f" at column {e.node.col_offset + 1}" if hasattr(e.node, "col_offset") else ""
        allowed = (
            _ALLOWED_SUMMARY
            if allow_numpy
            else (
                "allowed are Python literals (numbers, strings, bytes, True/False/None, lists, "
                "tuples, dicts)"
            )
        )
        raise InputError(f"{what} {shown!r}: {e.what}{where} is not allowed; {allowed}") from None
    except RecursionError as e:
        raise InputError(f"{what} is nested too deeply") from e


def parse_input_exprs(text: str) -> dict[str, Any]:
    """Parse ``--input_exprs``: ``'<key>=<expression>'``, ``;``-separated.

    Values are Python literals or numpy arrays (see :func:`parse_literal`).

    >>> parse_input_exprs("a=[1, 2];b=np.ones(2, dtype='int8')")
    {'a': [1, 2], 'b': array([1, 1], dtype=int8)}
    """
    pairs = split_assignments(text, "--input_exprs")
    refuse_repeated_keys(pairs, "--input_exprs")
    return {
        key: parse_literal(expr, allow_numpy=True, what=f"--input_exprs {key}:")
        for key, expr in pairs
    }
