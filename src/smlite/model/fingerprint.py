"""SavedModel fingerprints: read ``fingerprint.pb`` and recompute every hash in it.

TensorFlow 2.x writes ``fingerprint.pb`` (a ``FingerprintDef``) next to
``saved_model.pb``: five hashes of parts of the model, computed in
:mod:`smlite.model.fingerprint_compute` (the formulas are described there).

Older releases stored other formulas under the same fields (TF 2.11 hashed
the GraphDef in field 1, TF 2.11-2.13 hashed the signatures without their keys;
see :mod:`smlite.model.fingerprint_releases` and docs/fingerprint.md).
:func:`fingerprint` is the one judgement of a model's ``fingerprint.pb``: it
compares each stored hash with what the *writing* release would have stored and
says which algorithm matched, whether a missing file was to be expected, or why
the stored values cannot be compared.  ``smlite fingerprint`` and ``check``
both report what it says.

The uuid is random and cannot be checked.  A model without ``fingerprint.pb``
(TF1 exports) still gets computed values, so two exports can be compared.

>>> import smlite                                              # doctest: +SKIP
>>> from smlite.model.fingerprint import fingerprint
>>> with smlite.open("tests/fixtures/models/module_one_signature") as sm:
...     fingerprint(sm).matches
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from smlite import pb
from smlite.errors import CorruptFileError, NotASavedModelError
from smlite.formats import farmhash, storage
from smlite.formats.storage import AnyPath
from smlite.model import fingerprint_releases as releases
from smlite.model.fingerprint_compute import (
    FIELDS,
    FingerprintValues,
    algorithm_value,
    compute_values,
)
from smlite.model.fingerprint_releases import Formula
from smlite.model.saved_model import SavedModel

__all__ = [
    "FIELDS",
    "FINGERPRINT_FILENAME",
    "FieldCheck",
    "Fingerprint",
    "FingerprintValues",
    "StoredFingerprint",
    "compute",
    "fingerprint",
    "read_stored",
]

FINGERPRINT_FILENAME = "fingerprint.pb"


@dataclass(frozen=True, slots=True)
class StoredFingerprint:
    """What ``fingerprint.pb`` holds."""

    path: AnyPath
    values: FingerprintValues
    #: ``version.producer``: 4 for saved_model.pb in TF 2.21, 2 for .cpb, 1 in older TFs.
    producer: int
    uuid: str
    proto: pb.FingerprintDef = field(repr=False, compare=False)


Status = Literal["match", "mismatch", "absent", "not-comparable"]


@dataclass(frozen=True, slots=True)
class FieldCheck:
    """One stored hash against what the writing release would have stored."""

    name: str
    stored: int
    #: The recomputed value: the one ``algorithm`` gives, or (no match) the formula's first.
    computed: int
    #: The algorithm id (:data:`~smlite.model.fingerprint_releases.ALGORITHMS`) whose value
    #: equals the stored one; None when none of the writer's algorithms does.
    algorithm: str | None

    @property
    def matches(self) -> bool:
        return self.algorithm is not None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The judgement of one SavedModel's ``fingerprint.pb``: stored, recomputed, verdict.

    ``status`` is ``match`` (every stored hash reproduced by the writer's formula),
    ``mismatch``, ``absent`` (no fingerprint.pb; ``expected`` says whether the
    writer writes one) or ``not-comparable`` (``reason`` says why).
    """

    model_dir: AnyPath
    #: What TensorFlow 2.21 would write for these files now; None when not computed
    #: (``fingerprint(sm, compute_all=False)`` and nothing to compare).
    computed: FingerprintValues | None
    stored: StoredFingerprint | None
    #: Why a computed value may differ from what TensorFlow would write (e.g. an
    #: object-graph function name without a numeric uid, where TensorFlow fails).
    problems: tuple[str, ...] = ()
    #: ``meta_info_def.tensorflow_version`` of meta_graphs[0], and its parsed release.
    tensorflow_version: str = ""
    release: tuple[int, int, int] | None = None
    status: Status = "absent"
    #: One sentence for ``absent`` and ``not-comparable``; empty otherwise.
    reason: str = ""
    #: For ``absent``: does the writer write fingerprint.pb (None: writer unknown).
    expected: bool | None = None
    #: The writer's formula the stored values were compared with (or best matched).
    formula: Formula | None = None
    fields: tuple[FieldCheck, ...] = ()
    #: The FarmHash that computed the values: "cityhash" or "pyfarmhash" (native),
    #: or "python" (the pure-Python fallback).
    farmhash: str = ""

    @property
    def mismatches(self) -> tuple[str, ...]:
        """Names of the stored fields no algorithm of the writer's formula reproduces."""
        return tuple(f.name for f in self.fields if not f.matches)

    @property
    def matches(self) -> bool:
        """True when fingerprint.pb exists and the writer's formula reproduces every hash."""
        return self.status == "match"

    @property
    def recomputed(self) -> FingerprintValues | None:
        """The values recomputed with the writer's formula; None when nothing was compared."""
        if not self.fields:
            return None
        return FingerprintValues(*(f.computed for f in self.fields))

    @property
    def writer(self) -> str:
        """``"TF 2.15.1"``, or a phrase saying the writing release is not recorded."""
        if self.release is None:
            return "an unrecorded TensorFlow release"
        return f"TF {releases.release_text(self.release)}"

    def mismatch_messages(self) -> tuple[tuple[str, str], ...]:
        """``(field, sentence)`` for every stored hash the writer's formula does not reproduce."""
        out = []
        for f in self.fields:
            if f.matches or self.formula is None:
                continue
            covers = releases.COVERS[self.formula.fields[f.name][0]]
            out.append(
                (
                    f.name,
                    f"{f.name} is {f.stored} in fingerprint.pb but {f.computed} recomputed "
                    f"from {covers} with the {self.formula.name} formula (written by "
                    f"{self.writer}): the files changed after export or come from different "
                    "exports",
                )
            )
        return tuple(out)


def read_stored(model_dir: str | os.PathLike[str] | AnyPath) -> StoredFingerprint | None:
    """Parse ``<model_dir>/fingerprint.pb``; ``None`` when there is none."""
    path = storage.as_path(model_dir) / FINGERPRINT_FILENAME
    try:
        data = storage.read_bytes(path)
    except NotASavedModelError:
        return None
    message = pb.FingerprintDef()
    try:
        message.ParseFromString(data)
    except pb.DecodeError as e:
        raise CorruptFileError(f"not a FingerprintDef protocol buffer ({e})", path=path) from e
    values = FingerprintValues(*(getattr(message, n) for n in FIELDS))
    return StoredFingerprint(path, values, message.version.producer, message.uuid, message)


def fingerprint(sm: SavedModel, *, compute_all: bool = True) -> Fingerprint:
    """Judge ``fingerprint.pb`` of ``sm`` by the formula of the release that wrote it.

    With ``compute_all=False`` nothing is recomputed unless there is a stored
    fingerprint to compare (``check`` on exports without one).  Raises
    :class:`CorruptFileError` when fingerprint.pb does not parse.
    """
    stored = read_stored(sm.path)
    version = sm.meta_graphs[0].tensorflow_version if sm.meta_graphs else ""
    release = sm.meta_graphs[0].tensorflow_release if sm.meta_graphs else None
    if stored is None:
        tf2 = any(mg.has_object_graph for mg in sm.meta_graphs)
        expected = releases.writes_fingerprint(release, tf2_export=tf2)
        computed, problems = compute_values(sm) if compute_all else (None, ())
        return Fingerprint(
            sm.path,
            computed,
            None,
            problems,
            version,
            release,
            status="absent",
            reason=releases.absent_reason(release, tf2_export=tf2),
            expected=expected,
            farmhash=farmhash.IMPLEMENTATION,
        )
    reason = releases.not_comparable_reason(sm.format, stored.producer)
    if reason is not None:
        computed, problems = compute_values(sm) if compute_all else (None, ())
        return Fingerprint(
            sm.path,
            computed,
            stored,
            problems,
            version,
            release,
            "not-comparable",
            reason,
            farmhash=farmhash.IMPLEMENTATION,
        )
    values, problems = compute_values(sm)
    formula, fields = _judge(sm, stored, values, releases.formulas_for(release, stored.producer))
    status: Status = "match" if all(f.matches for f in fields) else "mismatch"
    return Fingerprint(
        sm.path,
        values,
        stored,
        problems,
        version,
        release,
        status,
        formula=formula,
        fields=fields,
        farmhash=farmhash.IMPLEMENTATION,
    )


def compute(sm: SavedModel) -> FingerprintValues:
    """The fingerprint TensorFlow 2.21 would write for ``sm`` (uuid aside)."""
    return compute_values(sm)[0]


# -- which algorithm the writer used ------------------------------------------------------


def _judge(
    sm: SavedModel,
    stored: StoredFingerprint,
    values: FingerprintValues,
    formulas: tuple[Formula, ...],
) -> tuple[Formula | None, tuple[FieldCheck, ...]]:
    """The first formula reproducing every stored hash, else the one reproducing most."""
    algorithms = _Algorithms(sm, values)
    best: tuple[Formula | None, tuple[FieldCheck, ...]] = (None, ())
    for formula in formulas:
        checks = []
        for name in FIELDS:
            want = getattr(stored.values, name)
            candidates = formula.fields[name]
            matched = next((a for a in candidates if algorithms.value(a) == want), None)
            got = algorithms.value(matched or candidates[0])
            checks.append(FieldCheck(name, want, got, matched))
        misses = sum(not c.matches for c in checks)
        if best[0] is None or misses < sum(not c.matches for c in best[1]):
            best = (formula, tuple(checks))
        if not misses:
            break
    return best


class _Algorithms:
    """Each algorithm's value for one model, computed once and only when asked."""

    def __init__(self, sm: SavedModel, values: FingerprintValues) -> None:
        self._sm = sm
        self._cache: dict[str, int] = {
            "saved-model-canonical": values.saved_model_checksum,
            "simple-delete": values.graph_def_program_hash,
            "signatures-keyed": values.signature_def_hash,
            "object-graph-by-uid": values.saved_object_graph_hash,
            "checkpoint-index": values.checkpoint_hash,
        }

    def value(self, algorithm: str) -> int:
        if algorithm not in self._cache:
            self._cache[algorithm] = algorithm_value(self._sm, algorithm)
        return self._cache[algorithm]
