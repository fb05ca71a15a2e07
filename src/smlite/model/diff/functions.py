"""The functions of the object graph, compared as ``tf.saved_model.load`` users call them.

A TF2 export keeps every ``tf.function`` of the saved object with its
traces (concrete functions).  A loaded model exposes the root object's
functions as attributes; a call dispatches to the trace whose input
signature matches its arguments.  So for each function of the root:

* a trace is identified by its input signature (the decoded
  ``canonicalized_input_signature``, compared by value: library names carry
  a process-wide counter and differ between two exports of the same code);
* a trace whose input signature is gone breaks the calls that matched it,
  unless exactly one new trace replaces exactly one old one and only
  widens it;
* a trace's returned structure is read by its callers: new entries and
  shapes still within the old promise are compatible, the rest breaks.

Functions below the root (Keras layer calls, submodules) are reported as
one informational line each.  The functions behind signatures (the
``signatures`` map) are left to the signature comparison, which is what
serving clients see.  Nothing here reads the graph: traces are listed in
file order from the object graph, not ordered by the names TensorFlow's
loader would give them (which needs a scan of the function library).
"""

from __future__ import annotations

from dataclasses import dataclass

from smlite.model.diff.recorder import Recorder, location
from smlite.model.diff.records import Decoded, Message, Value
from smlite.model.diff.specs import Delta, compare_structures, same_structure
from smlite.model.functions import ConcreteFunction, Function
from smlite.model.object_graph import ObjectGraph, UserObject
from smlite.model.saved_model import MetaGraph

__all__ = ["compare_functions"]

_FUNCTION_KINDS = ("function", "bare_concrete_function")


@dataclass(frozen=True, slots=True)
class _Saved:
    """A function of the object graph, under its path from the root."""

    path: str
    function: Function
    at_root: bool


def _functions(og: ObjectGraph | None) -> dict[str, _Saved]:
    if og is None or not og.nodes:
        return {}
    paths = og.paths
    by_path = {p: node_id for node_id, p in paths.items()}
    signature_map = og.root.child("signatures")
    skip_parents: set[int] = set()
    if signature_map is not None:
        node = og.node(signature_map)
        detail = node.detail if node is not None else None
        if isinstance(detail, UserObject) and detail.identifier == "signature_map":
            skip_parents.add(signature_map)
    found: dict[str, _Saved] = {}
    for node in og.nodes:
        if node.kind not in _FUNCTION_KINDS or not isinstance(node.detail, Function):
            continue
        path = paths.get(node.id)
        if not path:
            continue  # unreachable from the root: nothing can call it
        parent = by_path.get(path[:-1])
        parent_node = og.node(parent) if parent is not None else None
        if parent in skip_parents or (
            parent_node is not None and parent_node.kind in _FUNCTION_KINDS
        ):
            continue  # a signature, or a trace listed again under its function
        found[".".join(path)] = _Saved(".".join(path), node.detail, len(path) == 1)
    return found


def _trace_key(cf: ConcreteFunction) -> Decoded:
    return Decoded(cf.input_signature)


def _traces(fn: Function) -> list[ConcreteFunction]:
    """The traces of a function, one per input signature (the first, in file order)."""
    out: list[ConcreteFunction] = []
    for cf in fn.concrete_functions:
        if _match(cf, out) is None:
            out.append(cf)
    return out


def _match(cf: ConcreteFunction, traces: list[ConcreteFunction]) -> ConcreteFunction | None:
    """The trace of ``traces`` a call matching ``cf``'s input signature dispatches to."""
    for other in traces:
        if same_structure(cf.input_signature, other.input_signature):
            return other
    return None


def compare_functions(old: MetaGraph, new: MetaGraph, rec: Recorder, mg_path: str) -> None:
    """Root functions in detail, nested ones one line each."""
    a, b = _functions(old.object_graph), _functions(new.object_graph)
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        path = f"{mg_path}/{location(('function', name))}"
        at_root = (x or y).at_root  # type: ignore[union-attr]
        if not at_root:
            _compare_nested(x, y, rec, path, name)
        elif y is None:
            rec.add("function-removed", path, f"function {name!r} was removed")
        elif x is None:
            traces = len(y.function.concrete_functions)
            rec.add("function-added", path, f"function {name!r} was added ({traces} trace(s))")
        else:
            _compare_traces(x.function, y.function, rec, path, name)


def _compare_nested(
    x: _Saved | None, y: _Saved | None, rec: Recorder, path: str, name: str
) -> None:
    if x is None or y is None:
        what = "added" if x is None else "removed"
        rec.add("nested-function-changed", path, f"function {name!r} below the root was {what}")
        return
    ta, tb = _traces(x.function), _traces(y.function)
    pairs = [(cf, _match(cf, tb)) for cf in ta]
    if len(ta) != len(tb) or any(
        b is None or not same_structure(a.output_signature, b.output_signature) for a, b in pairs
    ):
        rec.add(
            "nested-function-changed",
            path,
            f"function {name!r} below the root has other traces or outputs "
            f"({len(ta)} trace(s) before, {len(tb)} now)",
        )


def _compare_traces(a: Function, b: Function, rec: Recorder, path: str, name: str) -> None:
    ta, tb = _traces(a), _traces(b)
    gone = []
    for old_cf in ta:
        new_cf = _match(old_cf, tb)
        if new_cf is None:
            gone.append(old_cf)
        else:
            trace_path = f"{path}/{location(('trace', new_cf.name))}"
            _compare_outputs(old_cf, new_cf, rec, trace_path, name)
    came = [cf for cf in tb if _match(cf, ta) is None]
    if len(gone) == 1 and len(came) == 1:
        old_cf, new_cf = gone[0], came[0]
        trace_path = f"{path}/{location(('trace', new_cf.name))}"
        deltas = compare_structures(old_cf.input_signature, new_cf.input_signature)
        widened = all(d.aspect == "shape" and d.relation == "widened" for d in deltas)
        rec.add(
            "trace-inputs-widened" if widened else "trace-inputs-changed",
            trace_path,
            (f"function {name!r}: the input signature of a trace changed: ", *_deltas_text(deltas)),
            old=_trace_key(old_cf),
            new=_trace_key(new_cf),
        )
        _compare_outputs(old_cf, new_cf, rec, trace_path, name)
        return
    for cf, removed in [(cf, True) for cf in gone] + [(cf, False) for cf in came]:
        key = _trace_key(cf)
        rec.add(
            "trace-removed" if removed else "trace-added",
            f"{path}/{location(('trace', cf.name))}",
            (f"function {name!r} {'no longer has' if removed else 'has a new'} trace for ", key),
            old=key if removed else None,
            new=None if removed else key,
        )


# Changes to a returned structure that code reading the old outputs survives.
def _compatible_output(delta: Delta) -> bool:
    return delta.aspect in ("key-added", "name") or (
        delta.aspect == "shape" and delta.relation in ("widened", "narrowed")
    )


def _compare_outputs(
    a: ConcreteFunction, b: ConcreteFunction, rec: Recorder, path: str, name: str
) -> None:
    deltas = compare_structures(a.output_signature, b.output_signature)
    if not deltas:
        return
    extended = all(_compatible_output(d) for d in deltas)
    rec.add(
        "trace-outputs-extended" if extended else "trace-outputs-changed",
        path,
        (
            f"function {name!r}: the outputs of the trace for ",
            _trace_key(b),
            " changed: ",
            *_deltas_text(deltas),
        ),
        old=Decoded(a.output_signature),
        new=Decoded(b.output_signature),
    )


def _deltas_text(deltas: list[Delta], limit: int = 4) -> Message:
    parts: list[str | Value] = []
    for i, d in enumerate(deltas[:limit]):
        parts.append(("; " if i else "") + (d.where or "(top)"))
        if d.aspect in ("key-added", "key-removed"):
            parts.append(" added" if d.aspect == "key-added" else " removed")
            continue
        assert d.old is not None and d.new is not None  # only keys are one-sided
        parts += [f" {d.aspect} ", d.old, " -> ", d.new]
        if d.aspect == "shape":
            parts.append(f" ({d.relation})")
    if len(deltas) > limit:
        parts.append(f", and {len(deltas) - limit} more")
    return tuple(parts)
