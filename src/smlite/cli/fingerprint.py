"""``smlite fingerprint``: recompute the hashes of ``fingerprint.pb`` and compare.

Exit status: 0 when every stored hash is what the writing TensorFlow release
would have stored (or the model has no ``fingerprint.pb``, in which case the
values TensorFlow would write are shown, or its hashes cannot be compared),
1 when a stored hash differs, 2 when the model cannot be read.
"""

from __future__ import annotations

from typing import Annotated

import typer

from smlite.cli import ExitCode, shown_location
from smlite.cli._options import (
    DaskOption,
    FindingsFormat,
    FingerprintFormat,
    JobsOption,
    OutputFileOption,
    RecursiveOption,
    ServingVersionOption,
    StorageOption,
    VerboseOption,
    write_output,
)

__all__ = ["fingerprint", "register"]

_HELP = (
    "Recompute a SavedModel's fingerprint (fingerprint.pb) and compare it with the stored one.\n\n"
    "Shows every hash TensorFlow stores (saved_model_checksum, graph_def_program_hash, "
    "signature_def_hash, saved_object_graph_hash, checkpoint_hash), stored and recomputed with "
    "the formula of the TensorFlow release that wrote the model, which algorithm matched, and "
    "the singleprint.  Models without fingerprint.pb (TF1 exports) get the values TensorFlow "
    "2.21 would write.  Several paths, or --recursive ROOTs, are a fleet: every model once, "
    "in parallel.  Exit status 1 when a stored hash differs."
)


def register(app: typer.Typer) -> None:
    app.command("fingerprint", help=_HELP)(fingerprint)


def fingerprint(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="SavedModel directories (or URLs); ROOTs with --recursive.",
        ),
    ],
    version: ServingVersionOption = None,
    format_: Annotated[
        FingerprintFormat,
        typer.Option("--format", help="text, json, or jsonl (one object per model)."),
    ] = FingerprintFormat.text,
    output: OutputFileOption = None,
    recursive: RecursiveOption = False,
    jobs: JobsOption = None,
    dask: DaskOption = None,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    from smlite.cli._fleet import FleetFlags, audit_fleet
    from smlite.errors import SmliteError

    fleet = FleetFlags(recursive, jobs, dask)
    if len(paths) > 1 or fleet.wanted(format_.value):
        if version is not None:
            raise SmliteError("--version names one version of one TF Serving base path")
        fmt = FindingsFormat(format_.value)
        return audit_fleet("fingerprint", paths, fleet, format_=fmt, output=output)
    return _one(paths[0], version, format_, output)


def _one(
    path: str, version: int | None, format_: FingerprintFormat, output: str | None
) -> ExitCode:
    """One model's fingerprint, stored and recomputed, as text or a JSON document."""
    from pathlib import Path

    import smlite
    from smlite.cli import refuse_write_inside
    from smlite.model.fingerprint import fingerprint as compute
    from smlite.render.json_doc import dumps

    with smlite.open(path, version=version) as sm:
        if output is not None:
            refuse_write_inside(Path(output), [sm.path])
        fp = compute(sm)
        shown = shown_location(path, sm)
    if format_ is FingerprintFormat.json:
        from smlite.render.fingerprint import fingerprint_document

        write_output(dumps(fingerprint_document(fp, shown_path=shown)), output)
    else:
        from smlite.render.fingerprint import fingerprint_renderable

        write_output(fingerprint_renderable(fp, shown_path=shown), output)
    return ExitCode.FINDINGS if fp.status == "mismatch" else ExitCode.OK
