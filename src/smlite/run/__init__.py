"""``smlite run``: feed inputs to a signature and get its outputs, safely.

The work is split so that everything that can go wrong with the user's input
goes wrong *before* TensorFlow is imported:

1. :func:`parse_input_flags` parses ``--inputs``/``--input_exprs``/
   ``--input_examples`` (:mod:`smlite.run.inputs` and the modules it names)
   — no file is read, nothing is evaluated;
2. :func:`prepare` opens the model with smlite's own reader, checks the input
   keys, reads the input files and validates every value against the signature
   (:mod:`smlite.run.validate`);
3. :func:`execute` runs it with TensorFlow (:mod:`smlite.run.backend`, the
   only module that imports it).

>>> from smlite.run import prepare, execute
>>> plan = prepare("model_dir", tag_set="serve", signature_def="serving_default",
...                input_exprs="x=[[1.0, 2.0]]")  # doctest: +SKIP
>>> execute(plan).outputs["y"]  # doctest: +SKIP
array([[-1.25]], dtype=float32)

Precedence between the flags is saved_model_cli's: a key given by
``--input_exprs`` overrides ``--inputs``, and ``--input_examples`` overrides
both (with a warning).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smlite.errors import SmliteError, UnsupportedError
from smlite.formats.saved_model import ServingLayout
from smlite.model.saved_model import Signature
from smlite.run.backend import (
    BACKENDS,
    TensorFlowLoadError,
    execute_signature,
    resolve_backend,
)
from smlite.run.examples import parse_input_examples
from smlite.run.input_exprs import parse_input_exprs
from smlite.run.input_files import FileInput, load_input_file, parse_inputs
from smlite.run.inputs import InputError
from smlite.run.validate import (
    check_input_keys,
    check_outputs,
    required_inputs,
    validate_feeds,
)

__all__ = [
    "BACKENDS",
    "InputError",
    "ParsedInputs",
    "RunPlan",
    "RunResult",
    "execute",
    "parse_input_flags",
    "plan_output_files",
    "prepare",
    "prepare_and_execute",
    "save_outputs",
]


@dataclass(frozen=True, slots=True)
class ParsedInputs:
    """The three input flags parsed, with saved_model_cli's precedence applied.

    ``files`` are not read yet.  ``sources`` maps every key to the flag whose
    value wins; ``warnings`` tells about overridden keys.
    """

    files: Mapping[str, FileInput]
    exprs: Mapping[str, Any]
    examples: Mapping[str, list[bytes]]
    sources: Mapping[str, str]
    warnings: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.sources)


def parse_input_flags(
    inputs: str = "", input_exprs: str = "", input_examples: str = ""
) -> ParsedInputs:
    """Parse the flags (no file read, nothing evaluated) and resolve their overlaps."""
    files = parse_inputs(inputs or "")
    exprs = parse_input_exprs(input_exprs or "")
    examples = parse_input_examples(input_examples or "")
    sources: dict[str, str] = {}
    warnings: list[str] = []
    for key in files:
        sources[key] = "--inputs"
    for key in exprs:
        if key in sources:
            warnings.append(
                f"input key {key!r} is given by both --inputs and --input_exprs; "
                "the --input_exprs value is used"
            )
        sources[key] = "--input_exprs"
    for key in examples:
        if key in sources:
            warnings.append(
                f"input key {key!r} is given by several options; the --input_examples value is used"
            )
        sources[key] = "--input_examples"
    return ParsedInputs(files, exprs, examples, sources, tuple(warnings))


@dataclass(frozen=True, slots=True)
class RunPlan:
    """A validated run: what to load, which signature, the converted input arrays."""

    model_dir: Path
    tags: tuple[str, ...]
    signature: Signature
    feeds: Mapping[str, np.ndarray] = field(repr=False)
    backend: str
    warnings: tuple[str, ...] = ()
    #: The TF Serving layout when ``path`` was a base path (``model_dir`` is the chosen version).
    serving: ServingLayout | None = field(default=None, repr=False)
    #: The backend to use when ``backend`` cannot load the model (``auto`` chose ``function``:
    #: then ``session``, what saved_model_cli uses); None when the backend was asked for.
    fallback: str | None = None

    def __repr__(self) -> str:
        return (
            f"RunPlan({str(self.model_dir)!r}, tags={list(self.tags)}, "
            f"signature={self.signature.key!r}, feeds={list(self.feeds)}, "
            f"backend={self.backend!r})"
        )


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outputs of a run, by output key in sorted order (numpy values).

    ``backend`` is the one that ran: the plan's, or its fallback when the
    plan's could not load the model (``notes`` then says why).
    """

    plan: RunPlan
    outputs: Mapping[str, Any]
    backend: str
    notes: tuple[str, ...] = ()


def prepare(
    path: str | os.PathLike[str],
    *,
    tag_set: str | None = None,
    signature_def: str = "serving_default",
    inputs: str = "",
    input_exprs: str = "",
    input_examples: str = "",
    allow_pickle: bool = False,
    version: int | None = None,
    backend: str = "auto",
) -> RunPlan:
    """Parse and validate everything for a run, without TensorFlow.

    ``tag_set`` is ``"serve"`` or ``"serve,gpu"`` (``None``: the model's only
    meta graph).  Raises :class:`~smlite.errors.SmliteError` subclasses for
    every problem found.
    """
    from smlite.model.saved_model import SavedModel

    if backend not in BACKENDS:
        raise SmliteError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    parsed = parse_input_flags(inputs, input_exprs, input_examples)
    warnings = list(parsed.warnings)
    with SavedModel.open(path, version=version) as sm:
        mg = sm.meta_graph(tag_set)
        sig = mg.signature(signature_def)
        check_input_keys(sig, parsed.keys)
        check_outputs(sig)
        chosen = resolve_backend(backend, has_object_graph=mg.has_object_graph)
        # A signature function needs every argument; a session only the Placeholders.
        required = frozenset(sig.inputs) if chosen == "function" else required_inputs(mg, sig)
        if not isinstance(sm.path, Path):
            raise UnsupportedError(
                "smlite run executes the model with TensorFlow, which reads local "
                "files: copy the model to this machine first",
                path=sm.path,
            )
        model_dir = sm.path
        tags = mg.tags
        serving = sm.serving
    values: dict[str, Any] = {}
    for key, source in parsed.sources.items():
        if source == "--inputs":
            values[key] = load_input_file(
                parsed.files[key], allow_pickle=allow_pickle, warn=warnings.append
            )
        elif source == "--input_exprs":
            values[key] = parsed.exprs[key]
        else:
            values[key] = parsed.examples[key]
    feeds = validate_feeds(sig, values, required=required, sources=parsed.sources)
    fallback = "session" if backend == "auto" and chosen == "function" else None
    return RunPlan(model_dir, tags, sig, feeds, chosen, tuple(warnings), serving, fallback)


def execute(plan: RunPlan) -> RunResult:
    """Run a prepared plan with TensorFlow (imported now).

    When the plan's backend cannot load the model and the plan has a
    fallback, the fallback runs it and the result's ``notes`` say so.
    """
    try:
        outputs = execute_signature(
            plan.model_dir, plan.tags, plan.signature, plan.feeds, backend=plan.backend
        )
    except TensorFlowLoadError as e:
        if plan.fallback is None:
            raise
        note = (
            f"tf.saved_model.load could not load the model ({e.cause}); running it with a "
            f"TF1 Session and the SavedModel loader instead, as saved_model_cli run does"
        )
        outputs = execute_signature(
            plan.model_dir, plan.tags, plan.signature, plan.feeds, backend=plan.fallback
        )
        return RunResult(plan, outputs, plan.fallback, (note,))
    return RunResult(plan, outputs, plan.backend)


def prepare_and_execute(path: str | os.PathLike[str], **options: Any) -> RunResult:
    """:func:`prepare` then :func:`execute` — one call, same keyword options as :func:`prepare`."""
    return execute(prepare(path, **options))


def _separators() -> tuple[str, ...]:
    return tuple(s for s in {"/", os.sep, os.altsep or "/", "\0"} if s)


def plan_output_files(
    outdir: str | os.PathLike[str],
    keys: Iterable[str],
    *,
    overwrite: bool = False,
    model_dir: str | os.PathLike[str] | None = None,
) -> dict[str, str]:
    """The ``<outdir>/<key>.npy`` file of every output key, checked before anything runs.

    Paths are spelled as saved_model_cli spells them (``os.path.join`` of the
    given ``outdir``).  Refuses an output key that is not a plain file name
    (it comes from the model: ``../x`` must not escape ``outdir``), an
    existing file unless ``overwrite``, and an ``outdir`` inside ``model_dir``
    (smlite never writes into a model).
    """
    out = os.fspath(outdir)
    if os.path.exists(out) and not os.path.isdir(out):
        raise SmliteError(f"--outdir {out} exists and is not a directory", path=out)
    if model_dir is not None:
        model = Path(model_dir).resolve()
        target = Path(out).resolve()
        if target == model or model in target.parents:
            raise SmliteError(
                f"--outdir {out} is inside the SavedModel directory {model}; smlite does not "
                "write into a model, choose another directory",
                path=out,
            )
    files: dict[str, str] = {}
    for key in keys:
        if not key or any(sep in key for sep in _separators()):
            raise SmliteError(
                f"output key {key!r} cannot be used as a file name under --outdir "
                "(it is empty or contains a path separator)"
            )
        file = os.path.join(out, key + ".npy")
        if not overwrite and os.path.lexists(file):
            raise SmliteError(
                f"output file {file} already exists; add --overwrite to overwrite the "
                "existing output files",
                path=file,
            )
        files[key] = file
    return files


def save_outputs(
    outputs: Mapping[str, Any], files: Mapping[str, str], *, overwrite: bool = False
) -> None:
    """Write each output with ``numpy.save`` (the bytes saved_model_cli writes).

    Files are created exclusively, so a symlink planted at an output path is
    never followed; with ``overwrite`` an existing file (or link) is removed
    first.
    """
    for key, file in files.items():
        os.makedirs(os.path.dirname(file) or ".", exist_ok=True)
        if overwrite and os.path.lexists(file) and not os.path.isdir(file):
            os.unlink(file)
        with open(file, "xb") as fp:
            np.save(fp, outputs[key])
