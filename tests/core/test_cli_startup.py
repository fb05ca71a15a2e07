"""Start-up: what `import smlite` and each command load; lazy loading changes no behaviour."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from smlite.cli import build_app, run

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "fixtures" / "models"
COMMANDS = [
    "show", "summary", "variables", "run", "check", "scan", "fingerprint", "diff", "size", "report",
]  # fmt: skip


def _loaded_after(code: str, *, top_level: bool = True) -> set[str]:
    """The modules loaded by ``code`` in a fresh interpreter (top-level names by default)."""
    names = "{m.split('.')[0] for m in sys.modules}" if top_level else "set(sys.modules)"
    probe = f"import sys, json, contextlib, io\n{code}\nprint(json.dumps(sorted({names})))"
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_smlite_loads_nothing_heavy() -> None:
    loaded = _loaded_after("import smlite")
    assert not loaded & {"numpy", "google", "rich", "typer", "pydantic"}


def test_the_facade_imports_generated_modules_on_first_use() -> None:
    loaded = _loaded_after("import smlite.pb", top_level=False)
    assert not {m for m in loaded if m.startswith("smlite._proto.")}
    loaded = _loaded_after("from smlite import pb; pb.VersionDef", top_level=False)
    assert {m for m in loaded if m.startswith("smlite._proto.")} == {"smlite._proto.versions_pb2"}


def test_signatures_load_no_graph_code() -> None:
    """Listing signatures reads meta graph headers only: no graph scanner, numpy or rich."""
    code = (
        "import smlite\n"
        f"with smlite.open({str(MODELS / 'keras_model')!r}) as sm:\n"
        "    assert [list(s.inputs) for s in sm.meta_graph('serve').signatures.values()]"
    )
    loaded = _loaded_after(code, top_level=False)
    assert "smlite.model.saved_model" in loaded
    assert not loaded & {"numpy", "rich", "smlite.formats.graph_index", "smlite.model.object_graph"}


def test_listing_variables_loads_no_numpy() -> None:
    """The listing reads the index only; numpy is for values."""
    code = (
        "from smlite.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert run(['variables', {str(MODELS / 'variables_sharded')!r}]) == 0"
    )
    assert "numpy" not in _loaded_after(code)


def test_help_loads_no_library_code() -> None:
    code = (
        "from smlite.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()): run(['--help'])"
    )
    loaded = _loaded_after(code)
    assert not loaded & {"numpy", "google", "rich", "pydantic"}


def test_the_coercion_fast_path_is_installed() -> None:
    """Typer's private hook is where cli/_coerce.py expects it (else Typer got upgraded
    past the pinned range and every command would pay for pydantic again)."""
    from typer import core

    from smlite.cli import _coerce

    assert _coerce.install() is True
    assert getattr(core.build_runtime_param, "_smlite_fast", False)


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "--all"],
        ["size", "--top", "3"],
        ["check"],
        ["check", "--format", "json", "--fast"],
        ["fingerprint"],
        ["scan"],
        ["variables", "--verify"],
        ["summary"],
    ],
)
def test_a_command_does_not_load_pydantic(argv: list[str]) -> None:
    pytest.importorskip("typer._coercion", reason="only Typer versions that coerce with pydantic")
    args = [argv[0], str(MODELS / "keras_model"), *argv[1:]]
    code = (
        "from smlite.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert run({args!r}) == 0"
    )
    assert "pydantic" not in _loaded_after(code)


@pytest.mark.parametrize("argv", [["check"], ["size"], ["scan"]])
def test_text_reports_do_not_load_openssl(argv: list[str]) -> None:
    """hashlib (OpenSSL, about 3.5 MiB) is for SARIF fingerprints only."""
    args = [argv[0], str(MODELS / "keras_model"), *argv[1:]]
    code = (
        "from smlite.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    run({args!r})"
    )
    loaded = _loaded_after(code, top_level=False)
    assert not loaded & {"hashlib", "_hashlib", "concurrent.futures"}


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f" {name} " in out
    assert "precommit" not in out  # hidden


def test_only_the_named_command_is_registered() -> None:
    def names(args: list[str]) -> list[str | None]:
        return [c.name for c in build_app(args).registered_commands]

    assert names(["show", "x"]) == ["show"]
    assert names(["run", "--help"]) == ["run"]
    assert names([]) == [*COMMANDS, "precommit"]
    assert names(["--version"]) == [*COMMANDS, "precommit"]
    assert names(["shwo"]) == [*COMMANDS, "precommit"]


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["shwo"]) == 2
    assert "No such command 'shwo'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "m", "--format", "xml"], "Invalid value for '--format'"),
        (["show", "m", "--version", "abc"], "Invalid value for '--version'"),
        (["show", "m", "--version", "99999999999999999999999"], None),
        (["check", "m", "--format", "yaml"], "Invalid value for '--format'"),
    ],
)
def test_bad_values_keep_typers_messages(
    argv: list[str], message: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(argv)
    err = capsys.readouterr().err
    assert code == 2
    if message is not None:
        assert message in err
    assert "Traceback" not in err


def test_values_are_coerced_as_typer_would(capsys: pytest.CaptureFixture[str]) -> None:
    base = str(MODELS / "serving_base")
    outputs = []
    for version in ("1", "+1", "01"):
        assert run(["show", base, "--version", version, "--format", "json"]) == 0
        outputs.append(capsys.readouterr())
    assert outputs[0] == outputs[1] == outputs[2]
    assert "version 1" in outputs[0].err
    assert run(["show", base, "--version", "2", "--format", "json"]) == 0
    assert "version 2" in capsys.readouterr().err


def _descriptors() -> list[tuple[str, str, Any]]:
    """``(command, option, type descriptor)`` of every parameter of every command."""
    import typer.main

    group = typer.main.get_command(build_app([]))
    found = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        for param in command.params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None:
                found.append((name, param.name, descriptor))
    return found


_SAMPLES = ["x", "7", "+7", "0", "-1", "json", "a b", ""]


def test_every_parameter_takes_the_fast_path_and_coerces_as_typer() -> None:
    """No smlite parameter falls back to pydantic; where the fast path decides, it decides
    as Typer's own coercion does (errors are left to Typer: the fast path defers them)."""
    pytest.importorskip("typer._coercion", reason="only Typer versions that coerce with pydantic")
    from typer import _coercion, core

    from smlite.cli import _coerce

    assert _coerce.install()
    descriptors = _descriptors()
    assert len(descriptors) > 50
    for command, option, descriptor in descriptors:
        fast = core.build_runtime_param(descriptor)
        assert type(fast).__name__ == "_FastParam", (command, option, descriptor.annotation)
        slow = _coercion.build_runtime_param(descriptor)
        multi = _coerce._optional(descriptor.annotation) or descriptor.annotation
        samples: list[Any] = (
            [[s] for s in _SAMPLES]
            if multi is not str and getattr(multi, "__origin__", None) is list
            else [*_SAMPLES, True, False, 3]
        )
        for value in samples:
            decided = _coerce._fast_value(
                descriptor.annotation, descriptor.parameter_info, value,
                _coerce_choice(), None,
            )  # fmt: skip
            if decided is _coerce._NO:
                continue
            assert decided == slow._coerce_value(value, param=None, ctx=None), (
                command, option, value,
            )  # fmt: skip


def _coerce_choice() -> Any:
    from typer._param_types import coerce_cli_choice

    return coerce_cli_choice
