"""The ``smlite`` command line: a thin Typer app over the library.

This package is the only place that prints and chooses exit codes, all of
them :class:`ExitCode` values:

* 0 — success;
* 1 — the command ran and found problems (``check``, ``scan``, ``variables
  --verify``, ``fingerprint``, breaking changes for ``diff``);
* 2 — smlite could not do what was asked (bad flags, missing or unreadable
  model, damaged file); the message goes to stderr, never a traceback.

Each command lives in its own module with a ``register(app)`` function that
adds exactly that command, so commands stay independent and import the
library only when they run.  :data:`COMMANDS` lists them, one line each; a run
registers only the command it was asked for (see :func:`build_app`), and a
module that registers no command, or another name, raises
:class:`CommandRegistryError` (``tests/core/test_cli_registry.py`` also
fails for a command module left out of :data:`COMMANDS`).  Options that
several commands share, and the output formats, are in :mod:`smlite.cli._options`.
"""

from __future__ import annotations

import contextvars
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pathlib import Path

    from smlite.errors import PathOrUrl
    from smlite.model.saved_model import SavedModel


class ExitCode(IntEnum):
    """The exit status of every smlite command."""

    OK = 0
    #: The command ran and found problems.
    FINDINGS = 1
    #: smlite could not do what was asked (message on stderr).
    ERROR = 2
    #: Stopped by the user (Ctrl-C), as a shell reports SIGINT.
    INTERRUPTED = 130


class CommandRegistryError(RuntimeError):
    """A command module does not register the command :data:`COMMANDS` names (a bug of smlite)."""


#: Command name -> the module of smlite.cli that defines it, in --help order.  One line per
#: command; the module's ``register(app)`` must add exactly the command of that name.
COMMANDS: dict[str, str] = {
    "show": "show",
    "summary": "summary",
    "variables": "variables",
    "run": "run_signature",
    "check": "check",
    "scan": "scan",
    "fingerprint": "fingerprint",
    "diff": "diff",
    "size": "size",
    "report": "report",
    "precommit": "precommit",
}


def _print_version(value: bool) -> None:
    if value:
        from smlite import __version__

        typer.echo(f"smlite {__version__}")
        raise typer.Exit(ExitCode.OK)


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print smlite's version and exit.",
            is_eager=True,
            expose_value=False,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    # Only --version, handled by its eager callback; the app's help text is Typer(help=...).
    return


def _register(app: typer.Typer, name: str) -> None:
    """Import the module of command ``name`` and let it register; check that it did."""
    module = importlib.import_module(f"smlite.cli.{COMMANDS[name]}")
    before = len(app.registered_commands)
    module.register(app)
    added = [c.name for c in app.registered_commands[before:]]
    if added != [name]:
        raise CommandRegistryError(
            f"smlite.cli.{COMMANDS[name]}.register added {added or 'no command'}; "
            f"COMMANDS expects exactly [{name!r}]"
        )


def build_app(args: Sequence[str] = ()) -> typer.Typer:
    """The Typer app, with only the command ``args`` names when it names one.

    Typer inspects every registered command on each run; registering just the
    one asked for keeps start-up short.  Help, ``--version`` and unknown
    commands get the full app, so listings and "no such command" stay complete.
    """
    from smlite.cli import _coerce

    _coerce.install()
    app = typer.Typer(
        name="smlite",
        help="Inspect, validate and audit TensorFlow SavedModels without TensorFlow.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Help texts are plain text: "[tool.smlite]" must not be read as rich markup.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    first = args[0] if args else None
    for name in [first] if first in COMMANDS else COMMANDS:
        _register(app, name)
    return app


def model_argument(path: str | None, dir_: str | None) -> str:
    """The model path given as ``PATH`` or ``--dir`` (exactly one of them)."""
    from smlite.errors import SmliteError

    if path is not None and dir_ is not None and path != dir_:
        raise SmliteError(
            f"two SavedModel paths given ({path!r} and --dir {dir_!r}); give one, as PATH "
            "or with --dir"
        )
    target = dir_ if dir_ is not None else path
    if target is None:
        raise SmliteError("no SavedModel given; pass its directory as PATH or with --dir DIR")
    return target


def refuse_write_inside(target: Path, model_dirs: Iterable[PathOrUrl | None]) -> None:
    """Raise unless ``target`` lies outside every model directory given.

    smlite never writes into a model, not even a file the user asked for by name
    (a model behind a URL is never written to at all: ``target`` is local).
    """
    from pathlib import Path

    from smlite.errors import SmliteError

    resolved = target.resolve()
    for folder in model_dirs:
        if not isinstance(folder, Path):
            continue  # a URL, or a string naming one
        if folder.is_dir() and resolved.is_relative_to(folder.resolve()):
            raise SmliteError(
                f"{target}: refusing to write inside the SavedModel directory {folder}; "
                "write it somewhere else"
            )


def shown_location(path: str, sm: SavedModel) -> PathOrUrl:
    """How a command names the model it read: the path as given (a URL as typed), or, for
    a TF Serving base path, the folder of the version it read."""
    from pathlib import Path

    from smlite.formats.storage import is_url

    if sm.serving is not None:
        return sm.path
    return path if is_url(path) else Path(path)


def error(message: str) -> None:
    """Print an error message to stderr (escaped: it may quote names from a file)."""
    from smlite.render.escape import escape_text

    sys.stderr.write(f"smlite: error: {escape_text(message)}\n")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``smlite`` console script; exits the process."""
    sys.exit(run(argv))


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit status instead of exiting.

    Each run has a context of its own: the storage options and ``--verbose`` of
    one run never reach the next (tests run many in one process).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    return int(contextvars.copy_context().run(_measured_exit_status, args))


def _measured_exit_status(args: list[str]) -> int:
    """The exit status, after what was read is counted: no partial result passes for clean.

    A read that failed (a RemoteError: access denied, a body cut short...) makes
    the run exit 2 even where a command went on without the file, and
    ``--verbose`` says on stderr how many bytes and requests the run used.
    """
    from smlite.cli._options import verbose_requested
    from smlite.formats.storage_stats import measure

    with measure() as stats:
        status = _exit_status(args)
    if verbose_requested():
        note = (
            f"; fetched whole (the server ignored Range): {', '.join(stats.whole_files)}"
            if stats.whole_files
            else ""
        )
        if not stats.requests and not stats.list_requests:
            note = "; local files are memory-mapped, only explicit reads counted"
        sys.stderr.write(
            f"smlite: read {stats.bytes:,} bytes in {stats.requests} read requests, "
            f"{stats.list_requests} listing requests, {stats.retries} retries{note}\n"
        )
    if stats.failures and status in (ExitCode.OK, ExitCode.FINDINGS):
        error(f"{stats.failures[0]} (the result above is incomplete)")
        return ExitCode.ERROR
    return status


def _exit_status(args: list[str]) -> int:
    """Run the app on ``args``: the one boundary where errors become messages and exit codes."""
    from smlite.errors import SmliteError

    try:
        from click import ClickException
    except ImportError:  # typer >= 0.2x vendors click as typer._click
        from typer._click.exceptions import ClickException

    try:
        result = build_app(args)(args=args, prog_name="smlite", standalone_mode=False)
    except typer.Exit as e:
        return int(e.exit_code)
    except ClickException as e:
        e.show()
        return ExitCode.ERROR
    except typer.Abort:
        sys.stderr.write("smlite: aborted\n")
        return ExitCode.INTERRUPTED
    except SmliteError as e:
        error(str(e))
        return ExitCode.ERROR
    except KeyboardInterrupt:
        sys.stderr.write("smlite: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (e.g. `smlite show ... | head`).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        error(f"{where}{e.strerror or e}")
        return ExitCode.ERROR
    return result if isinstance(result, int) else ExitCode.OK
