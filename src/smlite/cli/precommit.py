"""``smlite precommit``: the entry point of the pre-commit hooks (``.pre-commit-hooks.yaml``).

pre-commit passes the changed files that match the hook's pattern
(``saved_model.pb``, ``fingerprint.pb``, ``variables/variables.*``,
``assets/...``); each is mapped to its model directory and every model is
checked once, with the policy of the nearest ``pyproject.toml`` above it.
Without ``--scan`` every check runs (``smlite check``); with it only the op
audit (``smlite scan``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from smlite.cli import ExitCode
from smlite.cli._options import (
    ConfigOption,
    FastOption,
    FindingsFormat,
    OpsFromOption,
    StrictOption,
)
from smlite.cli.check import run_checks, write_reports

__all__ = ["model_roots", "precommit", "register"]


def register(app: typer.Typer) -> None:
    app.command(
        "precommit",
        hidden=True,
        help="Check the SavedModels the given files belong to (used by the pre-commit hooks).",
    )(precommit)


def model_roots(files: list[str]) -> list[str]:
    """The model directories of ``files``, each once, in first-seen order."""
    from smlite.model.checks import model_root_for

    roots: dict[str, None] = {}
    for name in files:
        roots.setdefault(str(model_root_for(name)), None)
    return list(roots)


def precommit(
    files: Annotated[
        list[str] | None, typer.Argument(metavar="[FILE...]", show_default=False)
    ] = None,
    scan: Annotated[bool, typer.Option("--scan", help="Only the op audit (smlite scan).")] = False,
    strict: StrictOption = False,
    fast: FastOption = False,
    config: ConfigOption = None,
    ops_from: OpsFromOption = None,
) -> ExitCode:
    import os

    roots = [r for r in model_roots(files or []) if os.path.isdir(r)]
    if not roots:
        return ExitCode.OK
    reports = run_checks(
        roots,
        config=config,
        ops_from=ops_from,
        fast=fast or scan,
        ops_only=scan,
        progress=False,
    )
    return write_reports(
        reports,
        format_=FindingsFormat.text,
        output=None,
        strict=strict,
        kind="scan" if scan else "check",
    )
