"""What a person expects ``smlite diff`` to say about each pair of real TensorFlow exports.

The models are made by ``scripts/make_diff_fixtures.py`` (committed under
``tests/fixtures/diff``; the TF tier exports them afresh).  These are
judgements written down by hand, not recorded output: retraining changes
weights and nothing a client sees; an added output is compatible; a new
input dtype or rank, or a removed signature, breaks clients; a new trace of
a ``tf.function`` is compatible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smlite.model.diff import Diff, Severity

__all__ = ["EXPECTED", "Expected", "check_pair"]


@dataclass(frozen=True)
class Expected:
    old: str
    new: str
    #: Exactly these kinds are breaking / compatible (each may occur several times).
    breaking: frozenset[str]
    compatible: frozenset[str]
    #: Informational kinds allowed (not required: exports differ in details like tensor names).
    info_allowed: frozenset[str]
    verdict: str
    #: Kinds that must be among the informational changes.
    info_required: frozenset[str] = frozenset()


_SIGNATURE_FUNCTION = frozenset({"tensor-name-changed"})

EXPECTED = {
    "retrained": Expected(
        "keras_base",
        "keras_retrained",
        breaking=frozenset(),
        compatible=frozenset(),
        info_allowed=frozenset({"variable-values-changed"}),
        info_required=frozenset({"variable-values-changed"}),
        verdict="new-weights",
    ),
    "added output": Expected(
        "keras_base",
        "keras_added_output",
        breaking=frozenset(),
        compatible=frozenset({"output-added", "trace-outputs-extended"}),
        info_allowed=frozenset(
            {"tensor-name-changed", "variable-added", "variable-shape-changed", "op-added"}
        ),
        info_required=frozenset({"variable-added"}),
        verdict="new-graph-and-weights",
    ),
    "input dtype": Expected(
        "keras_base",
        "keras_input_float64",
        breaking=frozenset({"input-dtype-changed", "trace-inputs-changed"}),
        compatible=frozenset(),
        info_allowed=frozenset({"op-added", "tensor-name-changed"}),
        verdict="new-graph",
    ),
    "input rank": Expected(
        "keras_base",
        "keras_input_rank3",
        breaking=frozenset(
            {
                "input-shape-changed",
                "output-shape-changed",
                "trace-inputs-changed",
                "trace-outputs-changed",
            }
        ),
        compatible=frozenset(),
        info_allowed=frozenset({"op-added", "op-removed", "tensor-name-changed"}),
        verdict="new-graph",
    ),
    "removed signature": Expected(
        "module_base",
        "module_one_signature",
        breaking=frozenset({"signature-removed"}),
        compatible=frozenset(),
        info_allowed=_SIGNATURE_FUNCTION,
        verdict="new-graph",
    ),
    "new trace": Expected(
        "module_base",
        "module_retraced",
        breaking=frozenset(),
        compatible=frozenset({"trace-added"}),
        info_allowed=frozenset({"op-added", "tensor-name-changed"}),
        verdict="new-graph",
    ),
}


def check_pair(d: Diff, expected: Expected) -> None:
    """Assert that ``d`` says what a person expects of this pair."""
    got = {s: {c.kind for c in d.of(s)} for s in Severity}
    assert got[Severity.BREAKING] == expected.breaking, d.changes
    assert got[Severity.COMPATIBLE] == expected.compatible, d.changes
    assert got[Severity.INFO] <= expected.info_allowed, d.changes
    assert expected.info_required <= got[Severity.INFO], d.changes
    assert d.verdict.code == expected.verdict, d.verdict
    assert d.failed() == bool(expected.breaking)


def pair_paths(root: Path, expected: Expected) -> tuple[Path, Path]:
    return root / expected.old, root / expected.new
