"""``smlite variables``: list, verify and extract the variables of a model or checkpoint."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smlite.cli import ExitCode, refuse_write_inside
from smlite.cli._options import OutputFormat, ServingVersionOption, StorageOption, VerboseOption

if TYPE_CHECKING:
    import numpy as np

    from smlite.formats.storage import AnyPath
    from smlite.model.variables import Variable, VariableSet

__all__ = ["register", "variables"]

_HELP = """List the variables of a SavedModel or checkpoint, verify them, extract their values.

PATH is a SavedModel directory, a TF Serving base path, or a TensorBundle checkpoint:
a prefix such as ckpt-3, its .index file, or a directory holding a `checkpoint` file.

Only the index is read to list.  --verify reads every selected variable and checks its
CRC32C; --dump writes one value as .npy (or prints it); --export writes the selected
values to .npz, or to .safetensors when the safetensors package is installed.  Output
files are never overwritten without --overwrite.

Exit status: 0 success; 1 --verify found damaged data (each finding is listed);
2 the model, index or a flag could not be used (message on stderr).
"""

#: Show a progress bar (on a terminal) when reading at least this much data.
_PROGRESS_BYTES = 64 * 2**20


def register(app: typer.Typer) -> None:
    app.command("variables", help=_HELP)(variables)


def variables(
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH", help="SavedModel directory, serving base path or checkpoint prefix."
        ),
    ],
    patterns: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-k",
            metavar="GLOB",
            help="Keep variables whose key, object path or name matches GLOB (repeatable).",
            show_default=False,
        ),
    ] = None,
    trainable: Annotated[
        bool, typer.Option("--trainable", help="Only trainable variables.")
    ] = False,
    non_trainable: Annotated[
        bool, typer.Option("--non-trainable", help="Only variables known not to be trainable.")
    ] = False,
    keys: Annotated[
        bool, typer.Option("--keys", help="Show checkpoint keys instead of object paths.")
    ] = False,
    format_: Annotated[
        OutputFormat, typer.Option("--format", help="Output format: text or json.")
    ] = OutputFormat.text,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Read the selected variables and check their checksums."),
    ] = False,
    dump: Annotated[
        str | None,
        typer.Option(
            "--dump",
            metavar="KEY",
            help="Write the value of one variable (key, object path or name) to -o, or print it.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where --dump writes (.npy).",
            show_default=False,
        ),
    ] = None,
    export: Annotated[
        str | None,
        typer.Option(
            "--export",
            metavar="FILE",
            help="Write the selected variables to FILE (.npz or .safetensors), by checkpoint key.",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing output files.")
    ] = False,
    version: ServingVersionOption = None,
    storage_option: StorageOption = None,
    verbose: VerboseOption = False,
) -> ExitCode:
    from smlite.errors import SmliteError
    from smlite.model.variables import open_variables

    if trainable and non_trainable:
        raise SmliteError("give at most one of --trainable and --non-trainable")
    if output is not None and dump is None:
        raise SmliteError("-o/--output goes with --dump KEY (use --export FILE for several)")
    want: bool | None = True if trainable else False if non_trainable else None
    patterns = patterns or []

    with open_variables(path, version=version) as vs:
        rows = vs.select(patterns, trainable=want)
        if dump is not None:
            _dump(vs, dump, output, overwrite=overwrite)
            return ExitCode.OK
        if export is not None:
            _export(vs, rows, Path(export), overwrite=overwrite)
            return ExitCode.OK
        problems = None
        if verify:
            problems = _verify(vs, rows, everything=not patterns and want is None)
        json_out = format_ is OutputFormat.json
        _report(vs, rows, path=path, keys=keys, json_out=json_out, problems=problems)
        return ExitCode.FINDINGS if problems else ExitCode.OK


# -- output -------------------------------------------------------------------------------------


def _report(
    vs: VariableSet,
    rows: Sequence[Variable],
    *,
    path: str,
    keys: bool,
    json_out: bool,
    problems: Sequence[Any] | None,
) -> None:
    from smlite.render import variables as render
    from smlite.render.escape import escape_text

    if json_out:
        from smlite.render.json_doc import dumps

        sys.stdout.write(dumps(render.variables_document(vs, rows, path=path, problems=problems)))
        return
    out = sys.stdout
    if not vs.exists:
        out.write(escape_text(f"no variables: {vs.missing_reason}") + "\n")
        return
    for note in vs.warnings:
        sys.stderr.write(f"smlite: warning: {escape_text(note)}\n")
    if rows:
        out.write(render.variables_table(rows, keys=keys) + "\n")
    out.write(render.totals_line(rows, len(vs)) + "\n")
    if problems is None:
        return
    if problems:
        out.write(f"verify: {len(problems)} damaged of {len(rows)} checked:\n")
        for line in render.problems_lines(problems):
            out.write(f"  {line}\n")
    else:
        out.write(f"verify: all {len(rows)} checked variables match their checksums\n")


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    if total < _PROGRESS_BYTES or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn(label),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _verify(vs: VariableSet, rows: Sequence[Variable], *, everything: bool) -> tuple[Any, ...]:
    total = sum(v.nbytes for v in rows)
    with _progress(total, "verifying") as advance:
        return vs.verify(None if everything else [v.key for v in rows], progress=advance)


# -- writing values ----------------------------------------------------------------------------


def _protected(vs: VariableSet) -> set[AnyPath]:
    """Files of the model itself, never to be written over."""
    out = {vs.index_path.resolve()}
    if vs.exists:
        out.update(p.resolve() for p in vs.bundle.shard_paths())
    return out


@contextmanager
def _target(out: Path, vs: VariableSet, *, overwrite: bool) -> Iterator[Path]:
    """A temporary path next to ``out`` that replaces it only once fully written."""
    from smlite.errors import SmliteError

    if vs.kind == "saved_model":
        refuse_write_inside(out, [vs.prefix.parent.parent])  # <model>/variables/variables
    if out.resolve() in _protected(vs):
        raise SmliteError(f"{out}: refusing to write over a file of the checkpoint itself")
    if out.is_dir():
        raise SmliteError(f"{out}: is a directory; give a file name")
    if out.exists() and not overwrite:
        raise SmliteError(f"{out}: already exists; add --overwrite to replace it")
    if not out.parent.is_dir():
        raise SmliteError(f"{out.parent}: no such directory")
    tmp = out.with_name(f".{out.name}.smlite-{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def _storable(value: np.ndarray) -> tuple[np.ndarray, str | None]:
    """The array as numpy files can hold it, and a note when that changed its form."""
    if value.dtype.kind == "O":
        return value, "strings: an object array (load with allow_pickle=True)"
    if value.dtype.isbuiltin == 2:  # a dtype numpy itself lacks (bfloat16, float8, int4)
        bits = f"uint{value.dtype.itemsize * 8}"
        return value.view(bits), f"{value.dtype.name} stored as {bits} bit patterns"
    return value, None


def _note(message: str) -> None:
    from smlite.render.escape import escape_text

    sys.stderr.write(f"smlite: note: {escape_text(message)}\n")


def _dump(vs: VariableSet, key: str, output: str | None, *, overwrite: bool) -> None:
    import numpy as np

    var = vs[key]
    value = var.read()
    if output is None:
        from smlite.render.escape import escape, escape_text
        from smlite.render.variables import shape_text

        sys.stdout.write(f"{escape(var.key)}: {var.tf_dtype.name} {shape_text(var.shape)}\n")
        sys.stdout.write(escape_text(np.array2string(value, threshold=1000)) + "\n")
        return
    stored, note = _storable(value)
    out = Path(output)
    with _target(out, vs, overwrite=overwrite) as tmp, tmp.open("wb") as f:
        np.lib.format.write_array(f, stored, allow_pickle=True)
    if note:
        _note(f"{var.key}: {note}")
    sys.stderr.write(f"wrote {out}\n")


def _export(vs: VariableSet, rows: Sequence[Variable], out: Path, *, overwrite: bool) -> None:
    from smlite.errors import SmliteError

    suffix = out.suffix.lower()
    if suffix not in (".npz", ".safetensors"):
        raise SmliteError(f"{out}: --export writes .npz or .safetensors files")
    if not rows:
        raise SmliteError("no variables selected; nothing to export")
    if suffix == ".npz":
        _export_npz(vs, rows, out, overwrite=overwrite)
    else:
        _export_safetensors(vs, rows, out, overwrite=overwrite)
    sys.stderr.write(f"wrote {len(rows)} variables to {out}\n")


def _export_npz(vs: VariableSet, rows: Sequence[Variable], out: Path, *, overwrite: bool) -> None:
    import zipfile

    import numpy as np

    notes: list[str] = []
    total = sum(v.nbytes for v in rows)
    with (
        _target(out, vs, overwrite=overwrite) as tmp,
        tmp.open("wb") as f,
        _progress(total, "exporting") as advance,
        zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf,
    ):
        for var in rows:
            stored, note = _storable(var.read())
            if note:
                notes.append(f"{var.key}: {note}")
            with zf.open(var.key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, stored, allow_pickle=True)
            if advance is not None:
                advance(var.nbytes)
    for note in notes:
        _note(note)


def _export_safetensors(
    vs: VariableSet, rows: Sequence[Variable], out: Path, *, overwrite: bool
) -> None:
    from smlite.errors import SmliteError, UnsupportedError

    try:
        from safetensors.numpy import save_file
    except ImportError:
        raise SmliteError(
            "writing .safetensors needs the safetensors package (pip install safetensors); "
            "--export to a .npz file works without it"
        ) from None
    strings = [v.key for v in rows if v.dtype.kind == "O"]
    if strings:
        shown = ", ".join(strings[:5]) + (", ..." if len(strings) > 5 else "")
        raise UnsupportedError(
            f"safetensors cannot hold string or variant tensors ({shown}); leave them out "
            "with --filter, or export to .npz"
        )
    tensors = {v.key: v.read() for v in rows}
    with _target(out, vs, overwrite=overwrite) as tmp:
        try:
            save_file(tensors, str(tmp))
        except Exception as e:  # the package's own errors, e.g. for dtypes it lacks
            raise UnsupportedError(f"safetensors could not store these tensors: {e}") from e
