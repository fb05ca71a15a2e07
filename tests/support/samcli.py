"""Recorded ``saved_model_cli`` answers, and the normalisation that gives smlite's variant of them.

The fixtures under ``tests/fixtures`` come with ``expected/<name>.json`` files written by
``scripts/make_fixtures.py`` (the file format is described in that script's docstring).  The
recorded ``stdout`` is exactly what ``saved_model_cli`` of TensorFlow 2.21 printed.  smlite prints
the same text with two deliberate differences, and :func:`normalize` applies exactly those two to
saved_model_cli's text so that tests can compare with ``==``:

1. No backspaces.  ``_print_args`` (Concrete Functions section of ``show --all``) prints every
   list, tuple or dict item followed by ``", "`` and then ``"\\b\\b]"`` / ``"\\b\\b}"`` to rub out
   the last separator.  The clean text drops that separator: ``[1, 2, \\b\\b]`` -> ``[1, 2]``.
   For an empty container there is no separator to rub out (a terminal would show
   ``Value:][``); the clean text is the empty literal: ``[\\b\\b]`` -> ``[]``.
2. Sets and dicts printed with sorted items.  saved_model_cli prints Python containers whose order
   is not stable; these are all the places (TF 2.21 ``saved_model_cli.py``):

   * ``_show_ops_in_metagraph_mgd`` (``show --list_ops``, ``show --all``):
     ``The MetaGraph with tag set [...] contains the following ops: {set of op names}``
   * ``scan_meta_graph_def`` (``scan``):
     ``MetaGraph with tag set [...] contains the following denylisted ops: {set}`` and
     ``MetaGraph with tag set [...] does not contain the default denylisted ops: {set}``
     (an empty set prints as ``set()`` and stays so).
   * ``_print_args`` (Concrete Functions): an argument that is a dict prints
     ``Value: {'k': v, ...}`` in the order of the SavedObjectGraph's protobuf map; values are
     ``str()`` of nested structures, which can hold more dicts.  Every dict literal on a
     ``Value:`` line is sorted by key, nested ones included.
   * ``_print_args`` for keyword arguments: the ``kwargs`` dict prints one
     ``Named Argument #i`` / ``<name>`` pair of lines per key, in map order.  The pairs of one
     option are sorted by name and renumbered.

   Everything else saved_model_cli prints is already sorted (tag-sets, signature keys, inputs,
   outputs, function names, options) or comes from a repeated proto field in file order (the
   ``[...]`` tag list), and is left alone.

Error messages are not normalised: smlite words its own errors.  (For the record,
saved_model_cli's "Please use one of the following tag-sets" and "Please choose from" lists are
in set and map order too.)
"""

from __future__ import annotations

import ast
import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# (start of line, the text right before the printed set) for every set saved_model_cli prints.
_SET_LINES: tuple[tuple[str, str], ...] = (
    ("The MetaGraph with tag set ", " contains the following ops: "),
    ("MetaGraph with tag set ", " contains the following denylisted ops: "),
    ("MetaGraph with tag set ", " does not contain the default denylisted ops: "),
)
_FUNCTIONS_HEADER = "Concrete Functions:"
# _print_args is called with indent=4: its lines start with 8 spaces, item lines with 10.
_VALUE_PREFIX = " " * 10 + "Value: "
_NAMED_ARGUMENT = " " * 8 + "Named Argument #"
_OPENERS = {"(": ")", "[": "]", "{": "}"}


def normalize(text: str) -> str:
    """saved_model_cli's output as smlite prints it: backspaces resolved, sets/dicts sorted."""
    lines = _erase_backspaces(text).split("\n")
    out: list[str] = []
    in_functions = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(_FUNCTIONS_HEADER):
            in_functions = True
        if in_functions and line.startswith(_NAMED_ARGUMENT):
            block, i = _named_argument_block(lines, i)
            out.extend(block)
            continue
        if in_functions and line.startswith(_VALUE_PREFIX):
            line = _VALUE_PREFIX + _sort_dicts(line[len(_VALUE_PREFIX) :])
        else:
            line = _sort_set_line(line)
        out.append(line)
        i += 1
    return "\n".join(out)


def _erase_backspaces(text: str) -> str:
    """Resolve saved_model_cli's ``, \\b\\b`` erasures (see the module docstring)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "\b":
            out.append(text[i])
            i += 1
            continue
        j = i
        while j < len(text) and text[j] == "\b":
            j += 1
        count = j - i
        erased = out[-count:] if count <= len(out) else []
        # Only a trailing separator is rubbed out; after an opening bracket (empty container)
        # the backspaces have nothing of the clean text to erase.
        if len(erased) == count and all(c in ", " for c in erased):
            del out[-count:]
        i = j
    return "".join(out)


def _sort_set_line(line: str) -> str:
    for start, infix in _SET_LINES:
        if line.startswith(start) and infix in line:
            head, sep, literal = line.rpartition(infix)
            if literal.startswith("{") and literal.endswith("}"):
                items = _split_top(literal[1:-1])
                if items is not None:
                    literal = "{" + ", ".join(sorted(items, key=_literal_key)) + "}"
            return head + sep + literal
    return line


def _named_argument_block(lines: Sequence[str], i: int) -> tuple[list[str], int]:
    """Sort the consecutive ``Named Argument #k`` / name line pairs starting at ``lines[i]``."""
    names: list[str] = []
    while i + 1 < len(lines) and lines[i].startswith(_NAMED_ARGUMENT):
        names.append(lines[i + 1])
        i += 2
    block: list[str] = []
    for k, name in enumerate(sorted(names, key=lambda n: n.strip()), 1):
        block.append(f"{_NAMED_ARGUMENT}{k}")
        block.append(name)
    return block, i


def _sort_dicts(text: str) -> str:
    """Sort the items of every dict literal in ``text`` (a Python repr-like string)."""
    try:
        return _rewrite(text)
    except ValueError:
        # Unbalanced brackets or quotes (saved_model_cli quotes str values without escaping
        # them): leave the line as printed rather than guess.
        return text


def _rewrite(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "'\"":
            j = _string_end(text, i)
            out.append(text[i:j])
            i = j
        elif c in _OPENERS:
            j = _group_end(text, i)
            inner = _rewrite(text[i + 1 : j])
            if c == "{":
                inner = _sort_dict_items(inner)
            out.append(c + inner + text[j])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _sort_dict_items(inner: str) -> str:
    items = _split_top(inner)
    if not items:
        return inner
    keyed: list[tuple[str, str]] = []
    for item in items:
        parts = _split_top(item, ": ")
        if parts is None or len(parts) < 2:
            return inner  # not a dict literal
        keyed.append((parts[0], item))
    keyed.sort(key=lambda kv: _literal_key(kv[0]))
    return ", ".join(item for _, item in keyed)


def _literal_key(text: str) -> str:
    """The string a printed key or set item stands for (``'a'`` -> ``a``)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def _split_top(text: str, sep: str = ", ") -> list[str] | None:
    """Split ``text`` at ``sep`` outside brackets and quotes; None if it does not parse."""
    if not text:
        return []
    parts: list[str] = []
    start = 0
    i = 0
    try:
        while i < len(text):
            c = text[i]
            if c in "'\"":
                i = _string_end(text, i)
            elif c in _OPENERS:
                i = _group_end(text, i) + 1
            elif text.startswith(sep, i):
                parts.append(text[start:i])
                i += len(sep)
                start = i
            else:
                i += 1
    except ValueError:
        return None
    parts.append(text[start:])
    return parts


def _string_end(text: str, i: int) -> int:
    """Index just past the quoted string starting at ``text[i]`` (backslash escapes honoured)."""
    quote = text[i]
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        j += 1
    raise ValueError(f"unterminated string at {i}")


def _group_end(text: str, i: int) -> int:
    """Index of the bracket closing the one at ``text[i]``."""
    close = _OPENERS[text[i]]
    j = i + 1
    while j < len(text):
        c = text[j]
        if c in "'\"":
            j = _string_end(text, j)
            continue
        if c in _OPENERS:
            j = _group_end(text, j) + 1
            continue
        if c in ")]}":
            if c != close:
                raise ValueError(f"mismatched {c!r} at {j}")
            return j
        j += 1
    raise ValueError(f"unclosed {text[i]!r} at {i}")


# ------------------------------------------------------------------------------------------------
# Loading the recorded answers.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """One recorded saved_model_cli call."""

    argv: tuple[str, ...]
    stdout: str
    exit: int
    error: str | None
    error_type: str | None

    @property
    def command(self) -> str:
        return self.argv[0]

    @property
    def normalized_stdout(self) -> str:
        return normalize(self.stdout)

    def argv_for(
        self,
        model: str | Path,
        *,
        inputs: str | Path | None = None,
        outdir: str | Path | None = None,
    ) -> list[str]:
        """The argv with ``{model}``, ``{inputs}`` and ``{outdir}`` filled in."""
        values = {"{model}": model, "{inputs}": inputs, "{outdir}": outdir}
        argv = []
        for arg in self.argv:
            for placeholder, value in values.items():
                if placeholder in arg:
                    if value is None:
                        raise ValueError(f"{arg!r} needs a value for {placeholder}")
                    arg = arg.replace(placeholder, str(value))
            argv.append(arg)
        return argv

    def __repr__(self) -> str:
        return f"Case({' '.join(self.argv)!r}, exit={self.exit})"


def fixture_names(fixtures: Path = FIXTURES) -> list[str]:
    """Every fixture that has recorded answers."""
    return sorted(p.name.removesuffix(".json") for p in (fixtures / "expected").glob("*.json"))


def load_expected(name: str, fixtures: Path = FIXTURES) -> dict[str, Any]:
    """The whole ``expected/<name>.json`` document."""
    with (fixtures / "expected" / f"{name}.json").open(encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    return doc


def load_cases(name: str, *, run: bool = False, fixtures: Path = FIXTURES) -> tuple[Case, ...]:
    """The recorded show/scan cases of a fixture (its ``run`` cases with ``run=True``)."""
    doc = load_expected(name, fixtures)
    return tuple(
        Case(
            argv=tuple(c["argv"]),
            stdout=c["stdout"],
            exit=c["exit"],
            error=c["error"],
            error_type=c["error_type"],
        )
        for c in doc["run_cases" if run else "cases"]
    )


def model_dir(name: str, fixtures: Path = FIXTURES) -> Path:
    """The directory ``{model}`` stands for in the fixture's cases."""
    return fixtures / str(load_expected(name, fixtures)["model"])


def inputs_dir(name: str, fixtures: Path = FIXTURES) -> Path:
    """The directory ``{inputs}`` stands for in the fixture's run cases."""
    return fixtures / "inputs" / name


def load_variable_values(
    name: str, fixtures: Path = FIXTURES
) -> dict[str, dict[str, np.ndarray[Any, Any]]]:
    """Recorded variable values: ``{prefix: {checkpoint key: array}}``.

    ``prefix`` is relative to the fixture's model directory.  Arrays have the dtype
    ``tf.train.load_checkpoint(...).get_tensor`` returned (bfloat16, float8 and int4 ones through
    ``ml_dtypes``); string tensors are object arrays of ``bytes``.
    ``_CHECKPOINTABLE_OBJECT_GRAPH`` has no recorded value and is left out.
    """
    doc = load_expected(name, fixtures)
    npz_path = fixtures / "expected" / f"{name}.variables.npz"
    arrays: Mapping[str, np.ndarray[Any, Any]] = {}
    if npz_path.exists():
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    result: dict[str, dict[str, np.ndarray[Any, Any]]] = {}
    for group in doc["variables"]:
        values: dict[str, np.ndarray[Any, Any]] = {}
        for entry in group["entries"]:
            if entry["strings_b64"] is not None:
                flat = [base64.b64decode(s) for s in entry["strings_b64"]]
                strings = np.empty(len(flat), dtype=object)
                strings[:] = flat
                values[entry["key"]] = strings.reshape(entry["shape"])
            elif entry["npz"] is not None:
                array = arrays[entry["npz"]]
                if entry["npz_view"] is not None:
                    array = array.view(_numpy_dtype(entry["numpy_dtype"]))
                values[entry["key"]] = array
        result[group["prefix"]] = values
    return result


def _numpy_dtype(name: str) -> np.dtype[Any]:
    try:
        return np.dtype(name)
    except TypeError:
        import ml_dtypes

        dtype: np.dtype[Any] = np.dtype(getattr(ml_dtypes, name))
        return dtype
