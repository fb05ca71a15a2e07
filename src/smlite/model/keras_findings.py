"""The Keras judgement of ``check`` and ``scan`` (rules SML801-SML806).

Every object Keras serialized (``{"class_name": ..., "config": ...}`` anywhere in every
node's metadata: layers, layers nested in models and wrappers, optimizers, losses) is
visited once.  A ``Lambda`` whose function is Python bytecode is an error (SML801); its
bytecode, read without running it, is searched for :data:`DANGEROUS_NAMES` (SML802) or
reported as opaque when no known CPython layout reads it (SML803, the same severity).
A function taken by name from a module that is not Keras is an error (SML804); a
registered class from outside Keras a warning (SML805).  Damaged metadata is SML806, and
the other nodes are still checked.

The same layer appears in its own node, in its model's ``config`` and in ``model_config``;
it is reported once, at the most specific place: ``node[12]/layer[lambda_1]`` in
``keras_metadata.pb`` (for TF 2.0-2.4 exports, in ``saved_model.pb``'s meta graph).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smlite.errors import CorruptFileError, SmliteError
from smlite.formats.keras_metadata import KERAS_METADATA_FILENAME
from smlite.model.keras import KerasNode, KerasSource, keras_sources, parsed_nodes
from smlite.model.keras_objects import (
    LambdaFunction,
    custom_class,
    is_keras_module,
    lambda_functions,
)
from smlite.model.rules import Finding, Where, rule

if TYPE_CHECKING:
    from smlite.formats.keras_metadata import RawKerasNode
    from smlite.model.policy import Policy
    from smlite.model.saved_model import SavedModel

__all__ = ["DANGEROUS_NAMES", "keras_findings"]


def _names(why: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, why)


#: Names that tensor code has no use for: a Lambda that references one can run shell
#: commands, load or build code, reach files or the network, or get at any of these
#: through a name computed at run time.  Only ``co_names`` count (globals, attributes and
#: imports the code looks up), in the function and in every code object nested in it.
DANGEROUS_NAMES: Mapping[str, str] = {
    **_names(
        "runs processes or shell commands",
        "os",
        "system",
        "popen",
        "subprocess",
        "Popen",
        "check_output",
        "check_call",
        "getoutput",
        "getstatusoutput",
        "spawnl",
        "spawnlp",
        "spawnv",
        "spawnvp",
        "posix_spawn",
        "execl",
        "execle",
        "execlp",
        "execv",
        "execve",
        "execvp",
        "fork",
        "forkpty",
        "pty",
        "commands",
    ),
    **_names(
        "builds, loads or imports code",
        "eval",
        "exec",
        "execfile",
        "compile",
        "__import__",
        "importlib",
        "import_module",
        "runpy",
        "marshal",
        "pickle",
        "dill",
        "cloudpickle",
        "ctypes",
        "cffi",
        "builtins",
        "__builtins__",
    ),
    **_names(
        "reaches objects by a computed name (sandbox escapes)",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "vars",
        "__dict__",
        "__globals__",
        "__code__",
        "__class__",
        "__bases__",
        "__mro__",
        "__subclasses__",
        "__getattribute__",
        "__reduce__",
        "__reduce_ex__",
        "sys",
    ),
    **_names(
        "reads or writes files, or talks to the network",
        "open",
        "shutil",
        "socket",
        "urllib",
        "urllib2",
        "urlopen",
        "requests",
        "http",
        "httplib",
        "ftplib",
        "smtplib",
        "telnetlib",
        "webbrowser",
    ),
}

_MAX_STRINGS = 5
_MAX_STRING = 80
# Keys whose values are structure, not a place worth naming in a location.
_STRUCTURAL = frozenset({"config", "layers", "layer", "items", "model_config", "cell", "cells"})


@dataclass(frozen=True, slots=True)
class _Seen:
    """One serialized object and where it was found."""

    node: KerasNode
    raw: RawKerasNode
    labels: tuple[str, ...]
    obj: Mapping[str, Any]


def keras_findings(sm: SavedModel, policy: Policy) -> list[Finding]:
    """The Keras findings of ``sm`` (policy severities are applied by the caller)."""
    try:
        source = keras_sources(sm)
    except SmliteError as e:
        path = Path(e.path) if e.path else sm.path / KERAS_METADATA_FILENAME
        offset = e.offset
        return [Finding(rule("SML806"), e.detail, Where(path, offset=offset))]
    if source is None:
        return []
    findings: list[Finding] = []
    lambdas: dict[tuple[str, str], _Seen] = {}
    customs: dict[str, list[_Seen]] = {}
    for raw, parsed in parsed_nodes(source):
        if isinstance(parsed, CorruptFileError):
            findings.append(Finding(rule("SML806"), parsed.detail, _where(source, raw, ())))
            continue
        for labels, obj in _objects(parsed.metadata, ()):
            seen = _Seen(parsed, raw, labels, obj)
            name = _name(obj)
            if obj.get("class_name") == "Lambda":
                key = (name, repr(obj.get("config")))
                if key not in lambdas or len(labels) < len(lambdas[key].labels):
                    lambdas[key] = seen
            registered = custom_class(obj)
            if registered is not None:
                customs.setdefault(registered, []).append(seen)
    for seen in lambdas.values():
        findings.extend(_lambda_findings(source, seen, policy))
    for registered, places in customs.items():
        finding = _custom_finding(source, registered, places, policy)
        if finding is not None:
            findings.append(finding)
    return findings


def _objects(
    value: Any, labels: tuple[str, ...], key: str | None = None
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """Every serialized Keras object (a mapping with a ``class_name``) with its location labels.

    A layer is ``layer[name]``; an object under another key is ``key[name]``
    (``optimizer_config[Adam]``); other keys on the way are named as they are
    (``training_config``).  Recursion is bounded by the JSON depth the reader accepts.
    """
    if isinstance(value, Mapping):
        class_name = value.get("class_name")
        if isinstance(class_name, str) and class_name != "__tuple__":
            kind = "layer" if key is None or key in _STRUCTURAL else key
            labels = (*labels, f"{kind}[{_name(value)}]")
            yield labels, value
        elif key is not None and key not in _STRUCTURAL:
            labels = (*labels, key)
        for child_key, item in value.items():
            if isinstance(item, (Mapping, tuple)):
                yield from _objects(item, labels, str(child_key))
    elif isinstance(value, tuple):
        for item in value:
            yield from _objects(item, labels, key)


def _name(obj: Mapping[str, Any]) -> str:
    config = obj.get("config")
    for candidate in (
        config.get("name") if isinstance(config, Mapping) else None,
        obj.get("name"),
        obj.get("class_name"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return "?"


def _where(source: KerasSource, raw: RawKerasNode, labels: tuple[str, ...]) -> Where:
    detail = "/".join((f"node[{raw.node_id}]", *labels))
    mg = source.meta_graph
    if source.kind == "object_graph" and mg is not None:
        return Where(source.file, meta_graph=mg.index, tags=mg.tags, detail=detail)
    return Where(source.file, detail=detail, offset=raw.offset)


def _lambda_findings(source: KerasSource, seen: _Seen, policy: Policy) -> Iterator[Finding]:
    config = seen.obj.get("config")
    if not isinstance(config, Mapping):
        return
    name = _name(seen.obj)
    where = _where(source, seen.raw, seen.labels)
    for fn in lambda_functions(config):
        what = f"Lambda layer {name!r}" + ("" if fn.role == "function" else f" ({fn.role})")
        if fn.kind == "function" and _foreign(fn.module, policy):
            yield Finding(
                rule("SML804"),
                f"{what} calls {fn.name!r} found by name in module {fn.module!r}, which is "
                "not Keras; what runs depends on that module where the model is loaded",
                where,
            )
        if fn.kind != "lambda":
            continue
        yield Finding(rule("SML801"), f"{what} carries Python bytecode: {_describe(fn)}", where)
        if fn.code is None:
            yield Finding(
                rule("SML803"),
                f"{what}: opaque bytecode ({fn.payload_size} bytes) that smlite cannot read, "
                f"so what it does is unknown: {fn.error}",
                where,
            )
            continue
        dangerous = [n for n in fn.code.all_names if n in DANGEROUS_NAMES]
        if dangerous:
            reasons = sorted({DANGEROUS_NAMES[n] for n in dangerous})
            yield Finding(
                rule("SML802"),
                f"{what}: its bytecode references {', '.join(dangerous)} ({'; '.join(reasons)}); "
                "tf-keras runs it when the layer is called after load_model",
                where,
            )


def _foreign(module: str | None, policy: Policy) -> bool:
    """A module that is neither Keras nor allowed by the policy."""
    if not module:
        return False
    return not is_keras_module(module) and not policy.allows_keras_module(module)


def _describe(fn: LambdaFunction) -> str:
    code = fn.code
    module = f" of module {fn.module!r}" if fn.module else ""
    if code is None:
        return f"{fn.payload_size} bytes{module} that no known CPython code layout reads"
    strings = [_short(s) for s in code.strings[:_MAX_STRINGS]]
    more = len(code.strings) - len(strings)
    return (
        f"{code.qualname or code.name}({', '.join(code.arg_names)}){module} from "
        f"{code.filename!r} (CPython {code.layout} layout, {fn.payload_size} bytes); "
        f"names: {', '.join(code.all_names) or '(none)'}; "
        f"strings: {', '.join(strings) or '(none)'}" + (f" and {more} more" if more > 0 else "")
    )


def _short(value: str | bytes) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_STRING else text[: _MAX_STRING - 3] + "..."


def _custom_finding(
    source: KerasSource, registered: str, places: list[_Seen], policy: Policy
) -> Finding | None:
    first = min(places, key=lambda s: len(s.labels))
    module = first.obj.get("module")
    owner = module if isinstance(module, str) and module else registered.split(">", 1)[0]
    if policy.allows_keras_module(owner):
        return None
    names = sorted({_name(s.obj) for s in places})
    shown = ", ".join(names[:_MAX_STRINGS]) + (" ..." if len(names) > _MAX_STRINGS else "")
    return Finding(
        rule("SML805"),
        f"{registered!r} is a registered custom class ({'module' if module else 'package'} "
        f"{owner!r}); loading the model needs its code, which runs then (used by: {shown})",
        _where(source, first.raw, first.labels),
    )
