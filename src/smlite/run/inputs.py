"""Parse ``smlite run`` input flags without executing anything.

``saved_model_cli run`` takes inputs in three flags; smlite accepts the same
spellings:

* ``--inputs 'x=a.npy;y=b.npz[name]'`` — arrays from ``.npy``/``.npz`` files;
* ``--input_exprs 'x=[[1.0, 2.0]];y=np.ones((2, 3), dtype="int32")'`` —
  expressions;
* ``--input_examples`` — see :mod:`smlite.run.examples`.

saved_model_cli passed expressions to ``eval`` in older releases
(CVE-2021-41228, CVE-2022-29216) and still loads files with
``allow_pickle=True``.  Here an expression is parsed with :mod:`ast` and the
tree is walked: only Python literals, a few numpy constants and calls of an
explicit list of numpy constructors with literal arguments are accepted, and
those are built by smlite itself, after their size is checked.  No name is
looked up, no attribute is read, no code runs.  Files are read with
``allow_pickle=False`` unless the caller opts in, and an array header is
checked against the real size of its data before anything is allocated.
"""

from __future__ import annotations

import ast
import math
import os
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from smlite.errors import SmliteError

__all__ = [
    "ALLOWED_DTYPES",
    "ALLOWED_FUNCTIONS",
    "MAX_ELEMENTS",
    "MAX_MEMBER_BYTES",
    "FileInput",
    "InputError",
    "load_input_file",
    "parse_input_exprs",
    "parse_inputs",
    "parse_literal",
    "split_assignments",
]

#: Largest number of elements a numpy constructor in ``--input_exprs`` may build.
MAX_ELEMENTS = 10_000_000

#: Largest decompressed size of one array in an ``.npz`` file (a zip bomb guard).
MAX_MEMBER_BYTES = 1 << 30

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


class InputError(SmliteError):
    """A ``--inputs``/``--input_exprs``/``--input_examples`` value smlite refuses."""


def split_assignments(text: str, flag: str) -> list[tuple[str, str]]:
    """Split ``'k1=v1;k2=v2'`` into ``(key, value)`` pairs, as saved_model_cli splits them.

    Parts are separated by ``;`` (a ``;`` inside a value therefore cannot be
    given, as with saved_model_cli); empty parts are skipped; each part is cut
    at its first ``=``.  Keys are stripped of surrounding spaces.

    >>> split_assignments("x=[1, 2]; y = 3", "--input_exprs")
    [('x', '[1, 2]'), ('y', ' 3')]
    """
    pairs = []
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(
                f"{flag} {part!r} is not of the form '<input_key>=<value>' "
                "(separate several inputs with ';')"
            )
        pairs.append((key, value))
    return pairs


def _duplicate_check(pairs: Sequence[tuple[str, Any]], flag: str) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InputError(f"{flag} gives input key {key!r} more than once")
        seen.add(key)


# ---------------------------------------------------------------------------
# --inputs
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileInput:
    """One ``--inputs`` item: ``key=path`` or ``key=path[name]``."""

    key: str
    path: str
    name: str | None = None


# <filename>[<variable_name>] with neither part containing a bracket.
_FILE_WITH_NAME = re.compile(r"([^\[\]]+)\[([^\[\]]+)\]")
_FILE_ONLY = re.compile(r"[^\[\]]+")


def parse_inputs(text: str) -> dict[str, FileInput]:
    """Parse ``--inputs``: ``'<key>=<file>'`` or ``'<key>=<file>[<name>]'``, ``;``-separated.

    >>> parse_inputs("x=/tmp/a.npy;y=/tmp/b.npz[b]")["y"]
    FileInput(key='y', path='/tmp/b.npz', name='b')
    """
    pairs = split_assignments(text, "--inputs")
    _duplicate_check(pairs, "--inputs")
    found: dict[str, FileInput] = {}
    for key, value in pairs:
        m = _FILE_WITH_NAME.fullmatch(value)
        if m:
            found[key] = FileInput(key, m.group(1), m.group(2))
        elif _FILE_ONLY.fullmatch(value):
            found[key] = FileInput(key, value)
        else:
            raise InputError(
                f"--inputs {key}={value!r} is not of the form '<input_key>=<filename>' or "
                "'<input_key>=<filename>[<variable_name>]'"
            )
    return found


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def _read_npy_header(fp: IO[bytes], where: str) -> tuple[tuple[int, ...], np.dtype]:
    """Read the header of an ``.npy`` stream; leaves ``fp`` at the start of the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, EOFError, SyntaxError) as e:
        raise InputError(f"{where}: not a valid .npy array: {e}") from e
    return tuple(int(d) for d in shape), dtype


def _check_array_header(
    shape: tuple[int, ...], dtype: np.dtype, available: int, where: str, allow_pickle: bool
) -> None:
    if dtype.hasobject:
        if not allow_pickle:
            raise InputError(
                f"{where}: the array holds Python objects, which numpy stores as a pickle; "
                "smlite does not unpickle input files unless --allow-pickle is given "
                "(only use it for files you trust)"
            )
        return
    count = math.prod(shape)
    if count * dtype.itemsize > available:
        raise InputError(
            f"{where}: the header declares shape {shape} of {dtype} "
            f"({count * dtype.itemsize} bytes) but only {available} bytes of data follow"
        )


def _load_npy(path: str, allow_pickle: bool) -> np.ndarray:
    with open(path, "rb") as fp:
        shape, dtype = _read_npy_header(fp, path)
        available = os.fstat(fp.fileno()).st_size - fp.tell()
        _check_array_header(shape, dtype, available, path, allow_pickle)
        fp.seek(0)
        try:
            return np.lib.format.read_array(fp, allow_pickle=allow_pickle)
        except (ValueError, OSError, EOFError) as e:
            raise InputError(f"{path}: cannot read the array: {e}") from e


def _npz_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Array name (``x`` for member ``x.npy``) to member, as ``numpy.load`` names them."""
    members = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = info.filename
        members[name.removesuffix(".npy")] = info
    return members


def _load_npz_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, allow_pickle: bool
) -> np.ndarray:
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(
            f"{where}: the array is {info.file_size} bytes when decompressed; smlite reads "
            f"at most {MAX_MEMBER_BYTES} bytes per array"
        )
    with zf.open(info) as fp:
        if fp.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
            raise InputError(f"{where}: the member is not a .npy array")
    with zf.open(info) as fp:
        shape, dtype = _read_npy_header(fp, where)
        _check_array_header(shape, dtype, info.file_size - fp.tell(), where, allow_pickle)
    with zf.open(info) as fp:
        try:
            return np.lib.format.read_array(fp, allow_pickle=allow_pickle)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise InputError(f"{where}: cannot read the array: {e}") from e


def _load_npz(spec: FileInput, allow_pickle: bool) -> np.ndarray:
    path = spec.path
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: not a valid .npz file: {e}") from e
    with zf:
        members = _npz_members(zf)
        if spec.name is not None:
            info = members.get(spec.name)
            if info is None:
                listed = ", ".join(repr(n) for n in members) or "(none)"
                raise InputError(
                    f"input file {path} does not contain an array named {spec.name!r}; "
                    f"it contains: {listed}"
                )
            return _load_npz_member(zf, info, f"{path}[{spec.name}]", allow_pickle)
        if len(members) != 1:
            listed = ", ".join(repr(n) for n in members) or "(none)"
            raise InputError(
                f"input file {path} contains {len(members)} arrays ({listed}); name the one "
                f"to use: {spec.key}={path}[<name>]"
            )
        ((name, info),) = members.items()
        return _load_npz_member(zf, info, f"{path}[{name}]", allow_pickle)


def _load_pickle(spec: FileInput) -> Any:
    try:
        with open(spec.path, "rb") as fp:
            data = np.load(fp, allow_pickle=True)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"{spec.path}: not a .npy, .npz or pickle file: {e}") from e
    except Exception as e:  # unpickling can raise anything; the user opted in
        raise InputError(f"{spec.path}: unpickling failed: {type(e).__name__}: {e}") from e
    if spec.name is None:
        return data
    if isinstance(data, Mapping) and spec.name in data:
        return data[spec.name]
    raise InputError(f"input file {spec.path} does not contain variable with name {spec.name!r}")


def load_input_file(
    spec: FileInput,
    *,
    allow_pickle: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> Any:
    """Read the value of one ``--inputs`` item.

    ``.npy``: the array (a ``[name]`` is ignored, with a warning, as
    saved_model_cli does).  ``.npz``: the array called ``name``, or the only
    array.  Anything else is treated as a pickle, which is refused unless
    ``allow_pickle``; so are ``.npy`` arrays of Python objects.  The file type
    is recognised by its first bytes, not its name.
    """
    path = os.path.expanduser(spec.path)
    spec = FileInput(spec.key, path, spec.name)
    try:
        with open(path, "rb") as fp:
            magic = fp.read(len(_NPY_MAGIC))
    except OSError as e:
        raise InputError(f"--inputs {spec.key}: cannot read {path}: {e.strerror or e}") from e
    if magic.startswith(_NPY_MAGIC):
        if spec.name is not None:
            warn(f"input file {path} contains a single ndarray; name key {spec.name!r} ignored")
        return _load_npy(path, allow_pickle)
    if magic[:4] in _ZIP_MAGICS:
        return _load_npz(spec, allow_pickle)
    if not allow_pickle:
        raise InputError(
            f"{path} is neither a .npy nor a .npz file; saved_model_cli would unpickle it, "
            "which can run arbitrary code. Convert it to .npy/.npz, or pass --allow-pickle "
            "if you trust the file"
        )
    return _load_pickle(spec)


# ---------------------------------------------------------------------------
# --input_exprs
# ---------------------------------------------------------------------------


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
    _duplicate_check(pairs, "--input_exprs")
    return {
        key: parse_literal(expr, allow_numpy=True, what=f"--input_exprs {key}:")
        for key, expr in pairs
    }
