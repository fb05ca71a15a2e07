"""``smlite run``: ``saved_model_cli run`` with safe inputs (needs ``smlite[run]``).

Flags and standard output follow TensorFlow 2.21's ``saved_model_cli run``.
Differences, all on the side of safety:

* ``--input_exprs`` is parsed, never evaluated: Python literals plus a short
  list of numpy constructors with literal arguments (see
  :mod:`smlite.run.input_exprs`);
* input files are not unpickled unless ``--allow-pickle`` is given;
* inputs are checked against the signature before TensorFlow is imported;
* ``--outdir`` is checked before the model runs: existing files (without
  ``--overwrite``), output keys that are not plain file names, and a
  directory inside the model are refused;
* TensorFlow's own log output goes to standard error (or is silenced).
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from smlite.cli import ExitCode, model_argument
from smlite.cli._options import (
    ModelDirOption,
    ModelPathArgument,
    OutputFormat,
    ServingVersionOption,
    StorageOption,
    VerboseOption,
)

__all__ = ["BackendChoice", "register", "run_signature"]

_HELP = (
    "Run a signature on inputs with TensorFlow, as `saved_model_cli run` does (needs "
    "`pip install 'smlite\\[run]'`).\n\n"
    "Inputs: --inputs 'x=file.npy;y=file.npz\\[name]', --input_exprs 'x=[[1.0, 2.0]];"
    "y=np.ones((2, 3))' (literals and np.array/asarray/zeros/ones/full/arange/linspace/eye "
    'only; nothing is evaluated), --input_examples \'inputs=[{"x": [1.0], "id": [7]}]\'.  '
    "--input_exprs overrides --inputs and --input_examples overrides both, for the same key.  "
    "Outputs are printed, and saved as <outdir>/<key>.npy with --outdir."
)


class BackendChoice(str, Enum):
    """``--backend``: how TensorFlow runs the signature."""

    auto = "auto"
    session = "session"
    function = "function"


def register(app: typer.Typer) -> None:
    app.command("run", help=_HELP)(run_signature)


def run_signature(
    path: ModelPathArgument = None,
    dir_: ModelDirOption = None,
    tag_set: Annotated[
        str | None,
        typer.Option(
            "--tag_set",
            "--tag-set",
            metavar="TAGS",
            help="Comma-separated tags of the meta graph to load, e.g. 'serve' or 'serve,gpu' "
            "(default: the model's only meta graph).",
            show_default=False,
        ),
    ] = None,
    signature_def: Annotated[
        str,
        typer.Option(
            "--signature_def",
            "--signature-def",
            metavar="KEY",
            help="The SignatureDef key to run.",
        ),
    ] = "serving_default",
    inputs: Annotated[
        str,
        typer.Option(
            "--inputs",
            metavar="SPEC",
            help="'<key>=<file.npy>' or '<key>=<file.npz>\\[<name>]', separated by ';'.",
            show_default=False,
        ),
    ] = "",
    input_exprs: Annotated[
        str,
        typer.Option(
            "--input_exprs",
            "--input-exprs",
            metavar="SPEC",
            help="'<key>=<expression>' separated by ';': a Python literal or one of np.array, "
            "np.asarray, np.zeros, np.ones, np.full, np.arange, np.linspace, np.eye with literal "
            "arguments and an optional dtype.",
            show_default=False,
        ),
    ] = "",
    input_examples: Annotated[
        str,
        typer.Option(
            "--input_examples",
            "--input-examples",
            metavar="SPEC",
            help="'<key>=[{<feature>: [<values>], ...}, ...]' separated by ';': serialized "
            "tf.train.Example inputs.",
            show_default=False,
        ),
    ] = "",
    outdir: Annotated[
        str | None,
        typer.Option(
            "--outdir",
            metavar="DIR",
            help="Also save each output as <DIR>/<output key>.npy.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Overwrite existing output files under --outdir."),
    ] = False,
    allow_pickle: Annotated[
        bool,
        typer.Option(
            "--allow-pickle",
            "--allow_pickle",
            help="Allow --inputs files that need unpickling (pickles, object arrays). Unpickling "
            "can run arbitrary code: only for files you trust.",
        ),
    ] = False,
    version: ServingVersionOption = None,
    backend: Annotated[
        BackendChoice,
        typer.Option(
            "--backend",
            help="session: a TF1 Session and the SavedModel loader (saved_model_cli's way); "
            "function: tf.saved_model.load and the signature function; auto: function for TF2 "
            "exports (session when tf.saved_model.load cannot load the model, with a note on "
            "stderr), session otherwise.",
        ),
    ] = BackendChoice.auto,
    format_: Annotated[
        OutputFormat,
        typer.Option("--format", help="Output format: saved_model_cli's text, or a JSON document."),
    ] = OutputFormat.text,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    from smlite.render.escape import escape_text
    from smlite.run import execute, plan_output_files, prepare, save_outputs

    target = model_argument(path, dir_)
    plan = prepare(
        target,
        tag_set=tag_set,
        signature_def=signature_def,
        inputs=inputs,
        input_exprs=input_exprs,
        input_examples=input_examples,
        allow_pickle=allow_pickle,
        version=version,
        backend=backend.value,
    )
    if plan.serving is not None:
        from smlite.render.cli_text import serving_notice

        sys.stderr.write(serving_notice(plan.serving))
    for warning in plan.warnings:
        sys.stderr.write(f"smlite: warning: {escape_text(warning)}\n")
    files: dict[str, str] = {}
    if outdir:  # saved_model_cli ignores an empty --outdir too
        files = plan_output_files(
            outdir, plan.signature.outputs, overwrite=overwrite, model_dir=plan.model_dir
        )
    result = execute(plan)
    for note in result.notes:
        sys.stderr.write(f"smlite: note: {escape_text(note)}\n")
    if files:
        save_outputs(result.outputs, files, overwrite=overwrite)
    if format_ is OutputFormat.json:
        from smlite.render.json_doc import dumps
        from smlite.render.run import run_document

        doc = run_document(
            model_path=str(plan.model_dir),
            tags=plan.tags,
            signature_def=plan.signature.key,
            backend=result.backend,
            outputs=result.outputs,
            dtypes={k: info.dtype for k, info in plan.signature.outputs.items()},
            saved=files,
        )
        sys.stdout.write(dumps(doc))
    else:
        from smlite.render.run import run_text

        sys.stdout.write(run_text(result.outputs, files))
    return ExitCode.OK
