"""How each TensorFlow release computed ``fingerprint.pb``: the formulas, and which one applies.

TensorFlow changed what the hashes of a ``FingerprintDef`` cover while keeping
``version.producer`` at 1 for several releases, so a fingerprint can only be
judged by the formula of the release that *wrote* it
(``meta_info_def.tensorflow_version``), falling back to ``version.producer``
when the release is not recorded.  docs/fingerprint.md gives the evidence for
every row (TensorFlow source, wheels and exports of each release).

Nothing here reads a model: :mod:`smlite.model.fingerprint` computes the values
and asks this table which of them the writer would have stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "ALGORITHMS",
    "COVERS",
    "absent_reason",
    "FIRST_WRITER",
    "FORMULAS",
    "Formula",
    "formulas_for",
    "not_comparable_reason",
    "release_text",
    "writes_fingerprint",
]

Release = tuple[int, int, int]

#: What each algorithm hashes, by the id smlite reports (text and JSON).
ALGORITHMS: Mapping[str, str] = MappingProxyType(
    {
        "saved-model-canonical": "Fingerprint64 of the SavedModel re-serialized as C++ "
        "deterministic serialization does",
        "saved-model-file": "Fingerprint64 of the bytes of saved_model.pb as stored (the "
        "writer's own serialization)",
        "graph-def-canonical": "Fingerprint64 of meta_graphs[0].graph_def re-serialized as C++ "
        "deterministic serialization does (TF 2.11's graph_def_checksum)",
        "graph-def-file": "Fingerprint64 of the bytes of meta_graphs[0].graph_def as stored",
        "simple-delete": "Fingerprint64 of the GraphDef after SimpleDelete regularization",
        "signatures-keyed": "FingerprintCat64 over each signature key and SignatureDef, in key "
        "order",
        "signatures-unkeyed": "FingerprintCat64 over each SignatureDef in key order, keys not "
        "hashed",
        "object-graph-by-uid": "FingerprintCat64 over the object graph's concrete functions in "
        "uid order",
        "checkpoint-index": "Fingerprint64 of variables/variables.index",
    }
)

#: What each algorithm's value depends on, for messages ("recomputed from ...").
COVERS: Mapping[str, str] = MappingProxyType(
    {
        "saved-model-canonical": "saved_model.pb",
        "saved-model-file": "saved_model.pb",
        "graph-def-canonical": "the graph",
        "graph-def-file": "the graph",
        "simple-delete": "the graph",
        "signatures-keyed": "the signatures",
        "signatures-unkeyed": "the signatures",
        "object-graph-by-uid": "the object graph",
        "checkpoint-index": "variables/variables.index",
    }
)


@dataclass(frozen=True, slots=True)
class Formula:
    """What one range of TensorFlow releases stored in each field of fingerprint.pb."""

    #: ``"TF 2.14-2.20"``: the writing releases, as printed.
    name: str
    first: tuple[int, int]
    #: None: this and every later release (until smlite learns otherwise).
    last: tuple[int, int] | None
    #: ``version.producer`` these releases write for a saved_model.pb.
    producer: int
    #: Field name -> the algorithms any of which the writer's value equals, most likely first.
    fields: Mapping[str, tuple[str, ...]] = field(compare=False)

    def covers(self, release: Release) -> bool:
        minor = release[:2]
        return self.first <= minor and (self.last is None or minor <= self.last)

    def __reduce__(self) -> tuple[Any, ...]:
        # One of FORMULAS, named: a judgement travels back from a fleet worker (pickled),
        # and the read-only field table is the module's, not a copy.
        return (_formula_named, (self.name,))


def _fields(checksum: tuple[str, ...], signatures: str) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType(
        {
            "saved_model_checksum": checksum,
            "graph_def_program_hash": ("simple-delete",),
            "signature_def_hash": (signatures,),
            "saved_object_graph_hash": ("object-graph-by-uid",),
            "checkpoint_hash": ("checkpoint-index",),
        }
    )


# Releases up to 2.20 hashed the C++ serialization of the proto they had parsed; that equals
# the canonical re-serialization for exports whose Python wrote the map entries in another
# order (every PyPI export checked), and the file's own bytes where the writer's serializer
# was C++ (observed on a TF 2.14 export of TF Serving).  2.21 is checked on canonical only.
_OLD_CHECKSUM = ("saved-model-canonical", "saved-model-file")

#: Oldest release whose tf.saved_model.save writes fingerprint.pb.
FIRST_WRITER = (2, 11)

#: Every known formula, oldest first.
FORMULAS: tuple[Formula, ...] = (
    Formula(
        "TF 2.11",
        (2, 11),
        (2, 11),
        0,
        _fields(("graph-def-canonical", "graph-def-file"), "signatures-unkeyed"),
    ),
    Formula("TF 2.12-2.13", (2, 12), (2, 13), 1, _fields(_OLD_CHECKSUM, "signatures-unkeyed")),
    Formula("TF 2.14-2.20", (2, 14), (2, 20), 1, _fields(_OLD_CHECKSUM, "signatures-keyed")),
    Formula("TF 2.21", (2, 21), None, 4, _fields(("saved-model-canonical",), "signatures-keyed")),
)

_CHUNKED_PRODUCER = 2
_NO_MODEL_PRODUCER = 5


def release_text(release: Release | None) -> str:
    return "unknown" if release is None else ".".join(map(str, release))


def _formula_named(name: str) -> Formula:
    return next(f for f in FORMULAS if f.name == name)


def formulas_for(release: Release | None, producer: int) -> tuple[Formula, ...]:
    """The formulas the writer of a fingerprint.pb may have used, most likely first.

    A recorded release from 2.11 on names exactly one formula (the newest for
    releases after it).  Otherwise -- release not recorded, or one that never
    wrote fingerprint.pb, so another program did -- ``version.producer``
    narrows it to the formulas that wrote that producer.
    """
    if release is not None and release[:2] >= FIRST_WRITER:
        for formula in FORMULAS:
            if formula.covers(release):
                return (formula,)
        return (FORMULAS[-1],)
    return tuple(f for f in reversed(FORMULAS) if f.producer == producer)


def not_comparable_reason(model_format: str, producer: int) -> str | None:
    """Why a stored fingerprint cannot be recomputed; None when it can.

    The one rule behind ``smlite fingerprint`` and the ``check`` fingerprint rules.
    """
    if producer == _CHUNKED_PRODUCER:
        return (
            f"fingerprint.pb (version.producer {producer}) was computed from a chunked "
            "saved_model.cpb, whose formula smlite does not recompute"
        )
    if producer == _NO_MODEL_PRODUCER:
        return (
            f"fingerprint.pb (version.producer {producer}) was written without a SavedModel "
            "file and holds no hashes to compare"
        )
    if producer not in {f.producer for f in FORMULAS}:
        known = ", ".join(str(p) for p in sorted({f.producer for f in FORMULAS}))
        return (
            f"fingerprint.pb has version.producer {producer}, which smlite does not know "
            f"(known for saved_model.pb: {known})"
        )
    if model_format != "pb":
        return (
            "fingerprint.pb hashes saved_model.pb, and this model has saved_model."
            f"{model_format} instead"
        )
    return None


def writes_fingerprint(release: Release | None, *, tf2_export: bool) -> bool | None:
    """Whether the writing release's exporter wrote fingerprint.pb; None when unknown.

    Only ``tf.saved_model.save`` (and the Keras and Estimator paths built on it)
    writes it, from TF 2.11 on; TF1's SavedModelBuilder never does.
    """
    if not tf2_export:
        return False
    if release is None:
        return None
    return release[:2] >= FIRST_WRITER


def absent_reason(release: Release | None, *, tf2_export: bool) -> str:
    """Why a model has no fingerprint.pb, or why its absence is a finding."""
    if not tf2_export:
        return "no fingerprint.pb: TF1 SavedModelBuilder exports never have one"
    expected = writes_fingerprint(release, tf2_export=tf2_export)
    if expected is None:
        return (
            "no fingerprint.pb, and the writing TensorFlow release is not recorded "
            "(meta_info_def.tensorflow_version is empty): TF 2.11 and later write one, "
            "older releases do not"
        )
    if expected:
        return (
            f"fingerprint.pb is missing; TF {release_text(release)} (the writer) writes it "
            "next to saved_model.pb"
        )
    first = ".".join(map(str, FIRST_WRITER))
    return (
        f"no fingerprint.pb: TF {release_text(release)} (the writer) predates it; TF {first} "
        "and later write one"
    )
