"""The CLI's conventions, checked over every command module.

* every command module is in ``smlite.cli.COMMANDS`` and registers exactly the
  command listed there (a module left out, or a misnamed command, fails here or raises);
* parameters are declared one way (``Annotated``), output formats come from
  ``smlite.cli._options``, exit codes from ``smlite.cli.ExitCode``;
* ``smlite --version`` and ``python -m smlite --version`` print the version.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import typer

import smlite
import smlite.cli
from smlite.cli import COMMANDS, CommandRegistryError, ExitCode, build_app, run

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "src" / "smlite" / "cli"
COMMAND_MODULES = sorted(
    m.name for m in pkgutil.iter_modules(smlite.cli.__path__) if not m.name.startswith("_")
)


def _tree(module: str) -> ast.Module:
    return ast.parse((CLI / f"{module}.py").read_text(encoding="utf-8"))


def test_every_command_module_is_registered() -> None:
    assert sorted(COMMANDS.values()) == COMMAND_MODULES


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_module_registers_its_command(name: str) -> None:
    assert [c.name for c in build_app([name]).registered_commands] == [name]


def test_a_misnamed_command_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("smlite.cli.fake")

    def register(app: typer.Typer) -> None:
        app.command("faek")(lambda: None)

    fake.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "smlite.cli.fake", fake)
    monkeypatch.setitem(COMMANDS, "fake", "fake")
    with pytest.raises(CommandRegistryError, match=r"added \['faek'\]; COMMANDS expects"):
        build_app(["fake"])
    fake.register = lambda app: None  # type: ignore[attr-defined]
    with pytest.raises(CommandRegistryError, match="added no command"):
        build_app([])


def _parameters(module: str) -> list[tuple[str, ast.arg, ast.expr | None]]:
    """(function, parameter, default) of every function of a command module."""
    out = []
    for fn in ast.walk(_tree(module)):
        if isinstance(fn, ast.FunctionDef):
            args = fn.args.args + fn.args.kwonlyargs
            defaults = [None] * (len(fn.args.args) - len(fn.args.defaults)) + list(fn.args.defaults)
            defaults += list(fn.args.kw_defaults)
            out.extend((fn.name, a, d) for a, d in zip(args, defaults, strict=True))
    return out


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_parameters_are_annotated_not_defaulted_to_typer_calls(module: str) -> None:
    old_style = [
        f"{fn}({arg.arg})"
        for fn, arg, default in _parameters(module)
        if isinstance(default, ast.Call)
        and isinstance(default.func, ast.Attribute)
        and default.func.attr in ("Option", "Argument")
    ]
    assert not old_style, f"declare with Annotated[...] instead: {old_style}"


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_output_formats_and_exit_codes_come_from_one_place(module: str) -> None:
    tree = _tree(module)
    format_enums = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(item, ast.Assign) and ast.unparse(item.value) in ("'text'", "'json'")
            for item in node.body
        )
    ]
    assert not format_enums, "output formats belong in smlite.cli._options"
    literal_returns = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Return)
        and isinstance(node.value, ast.Constant)
        and type(node.value.value) is int
    ]
    assert not literal_returns, f"return ExitCode members, not numbers (lines {literal_returns})"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == ExitCode.OK
    assert capsys.readouterr().out == f"smlite {smlite.__version__}\n"


def test_python_m_smlite_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "smlite", "--version"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"smlite {smlite.__version__}\n", "")
