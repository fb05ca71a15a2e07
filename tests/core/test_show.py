"""``smlite show`` against every recorded ``saved_model_cli show`` case, plus its own errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smlite.cli import run
from tests.support import samcli

FIXTURES = samcli.FIXTURES
MODELS = FIXTURES / "models"

# "show --all" of TF2 models ends with a "Concrete Functions" section, which the
# functions renderer (smlite.render.functions) provides; it is compared too.
# Where saved_model_cli could not load the model it printed "N/A" there, and
# smlite lists the functions anyway: those sections are compared by
# tests/core/test_functions.py, the text before them here.
COMPARE_CONCRETE_FUNCTIONS = True
_FUNCTIONS_MARK = "\nConcrete Functions:"
_FUNCTIONS_NA = "\nConcrete Functions: N/A"


def comparable_show_output(argv: list[str] | tuple[str, ...], text: str) -> str:
    """The part of ``show`` output compared with the recording (see COMPARE_CONCRETE_FUNCTIONS)."""
    if "--all" in argv and not COMPARE_CONCRETE_FUNCTIONS:
        cut = text.find(_FUNCTIONS_MARK)
        if cut >= 0:
            return text[:cut]
    return text


def _show_cases() -> list[tuple[str, int, samcli.Case]]:
    out = []
    for name in samcli.fixture_names():
        for i, case in enumerate(samcli.load_cases(name)):
            if case.command == "show":
                out.append((name, i, case))
    return out


SHOW_CASES = _show_cases()


def _serving_base_root(name: str, case: samcli.Case, fixtures: Path) -> bool:
    """saved_model_cli cannot read a TF Serving base path; smlite serves its highest version."""
    return (
        samcli.load_expected(name, fixtures)["kind"] == "serving_base"
        and case.error_type == "OSError"
        and "{model}" in case.argv
    )


def _serving_version_case(
    name: str, case: samcli.Case, version: str, fixtures: Path
) -> samcli.Case:
    argv = tuple(f"{{model}}/{version}" if a == "{model}" else a for a in case.argv)
    for other in samcli.load_cases(name, fixtures=fixtures):
        if other.argv == argv:
            return other
    raise AssertionError(f"no recorded case {argv} to compare {case} with")


def check_recorded_show_case(
    name: str,
    case: samcli.Case,
    capsys: pytest.CaptureFixture[str],
    fixtures: Path = FIXTURES,
) -> None:
    """Run ``smlite show`` as the recorded ``case`` and compare stdout, exit and stderr.

    Where saved_model_cli failed (exit 1 and a traceback), smlite must print the
    same partial stdout, exit 2 and say why on one stderr line.
    """
    model = samcli.model_dir(name, fixtures)
    argv = case.argv_for(model)
    code = run(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if _serving_base_root(name, case, fixtures):
        served = _serving_version_case(name, case, "2", fixtures)
        assert code == 0, captured.err
        assert captured.out == comparable_show_output(argv, served.normalized_stdout)
        assert captured.err == f"smlite: serving version 2 of {model} (highest of 1, 2)\n"
        return
    expected = comparable_show_output(argv, case.normalized_stdout)
    actual = captured.out
    if _FUNCTIONS_NA in expected:
        assert _FUNCTIONS_MARK in actual and _FUNCTIONS_NA not in actual
        expected = expected[: expected.find(_FUNCTIONS_NA)]
        actual = actual[: actual.find(_FUNCTIONS_MARK)]
    assert actual == expected
    if case.exit == 0:
        assert code == 0, captured.err
        assert captured.err == ""
    else:
        assert code == 2
        assert captured.err.startswith("smlite: error: ")
        assert captured.err.count("\n") == 1
        if case.error_type == "RuntimeError":
            assert "tag-set" in captured.err and "valid choices" in captured.err
        elif case.error_type == "ValueError" and "Could not find signature" in (case.error or ""):
            assert "signature 'smlite_no_such_signature' not found" in captured.err


@pytest.mark.skipif(not SHOW_CASES, reason="no recorded fixtures")
@pytest.mark.parametrize(
    ("name", "index", "case"),
    SHOW_CASES,
    ids=[f"{n}-{i}-{' '.join(c.argv[3:]) or 'tag-sets'}" for n, i, c in SHOW_CASES],
)
def test_recorded_show_case(
    name: str, index: int, case: samcli.Case, capsys: pytest.CaptureFixture[str]
) -> None:
    check_recorded_show_case(name, case, capsys)


def test_every_fixture_has_show_cases() -> None:
    names = {n for n, _, _ in SHOW_CASES}
    for name in samcli.fixture_names():
        if samcli.load_expected(name)["kind"] != "checkpoint":
            assert name in names


def test_comparable_show_output_cuts_concrete_functions() -> None:
    text = "a\n\nConcrete Functions:\n  Function Name: 'f'\n"
    assert comparable_show_output(["show", "--all"], text) == (
        text if COMPARE_CONCRETE_FUNCTIONS else "a\n"
    )
    assert comparable_show_output(["show"], text) == text


# -- smlite's own behaviour ----------------------------------------------------------------


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


TF1 = MODELS / "tf1_multi_tag"
SERVING = MODELS / "serving_base"
needs_fixtures = pytest.mark.skipif(not TF1.is_dir(), reason="fixtures not generated")


@needs_fixtures
def test_positional_path_equals_dir(capsys: pytest.CaptureFixture[str]) -> None:
    a = _run(["show", str(TF1), "--tag_set", "serve"], capsys)
    b = _run(["show", "--dir", str(TF1), "--tag_set", "serve"], capsys)
    assert a == b
    assert a[0] == 0


@needs_fixtures
def test_equals_sign_flags(capsys: pytest.CaptureFixture[str]) -> None:
    a = _run(
        ["show", f"--dir={TF1}", "--tag_set=serve,gpu", "--signature_def=serving_default"], capsys
    )
    b = _run(
        ["show", "--dir", str(TF1), "--tag_set", "serve,gpu", "--signature_def", "serving_default"],
        capsys,
    )
    assert a == b
    assert "dense_y:0" in a[1]


@needs_fixtures
def test_two_different_paths_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", str(TF1), "--dir", str(SERVING)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("smlite: error: two SavedModel paths given")


def test_no_path_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show"], capsys)
    assert code == 2
    assert out == ""
    assert (
        err == "smlite: error: no SavedModel given; pass its directory as PATH or with --dir DIR\n"
    )


@needs_fixtures
def test_unknown_tag_set_lists_choices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", str(TF1), "--tag_set", "nope"], capsys)
    assert code == 2
    assert out == ""
    assert err == (
        "smlite: error: tag-set 'nope' not found; valid choices: 'gpu,serve', 'serve', 'train'\n"
    )


@needs_fixtures
def test_spaced_tag_set_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["show", str(TF1), "--tag_set", "serve, gpu"], capsys)
    assert code == 2
    assert err == (
        "smlite: error: tag-set 'serve, gpu' not found; valid choices: 'gpu,serve', 'serve', "
        "'train'. Tags are matched as typed when listing signature keys (as saved_model_cli "
        "does); without the spaces: 'gpu,serve'\n"
    )


@needs_fixtures
def test_empty_tag_set_with_list_ops(capsys: pytest.CaptureFixture[str]) -> None:
    # ' , ' is the empty tag-set, which this model does not have: the choices offered
    # are the ones it has, each of which is accepted.
    code, out, err = _run(["show", str(TF1), "--tag_set", " , ", "--list_ops"], capsys)
    assert code == 2
    assert out == ""
    assert err == (
        "smlite: error: tag-set ' , ' not found; valid choices: 'gpu,serve', 'serve', 'train'\n"
    )


@needs_fixtures
def test_unknown_signature_lists_choices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", str(TF1), "--tag_set", "serve", "--signature_def", "x"], capsys)
    assert code == 2
    assert out == ""
    assert err == (
        "smlite: error: signature 'x' not found; valid choices: 'classify_x', 'predict_y', "
        "'regress_x', 'serving_default'\n"
    )


@needs_fixtures
def test_serving_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", str(SERVING), "--version", "1", "--all"], capsys)
    assert code == 0
    assert (
        err
        == f"smlite: serving version 1 of {SERVING} (requested with --version; versions: 1, 2)\n"
    )
    assert "signature_def['serving_default']" in out


@needs_fixtures
def test_serving_version_missing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", str(SERVING), "--version", "3"], capsys)
    assert code == 2
    assert out == ""
    assert err == "smlite: error: version '3' not found; valid choices: '1', '2'\n"


@needs_fixtures
def test_version_flag_on_model_dir(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", str(TF1), "--version", "1"], capsys)
    assert (code, out) == (2, "")
    assert "--version applies to a TF Serving base path" in err


@needs_fixtures
def test_bad_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["show", str(TF1), "--format", "yaml"], capsys)
    assert code == 2
    assert out == ""


@needs_fixtures
def test_show_does_not_parse_graph_for_signatures(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from smlite.formats import graph_index
    from smlite.formats import saved_model as fmt

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the GraphDef was read")

    monkeypatch.setattr(fmt.SavedModelFile, "graph_def", boom)
    monkeypatch.setattr(fmt.SavedModelFile, "graph_bytes", boom)
    monkeypatch.setattr(graph_index, "index_graph", boom)
    for argv in (
        ["show", str(TF1)],
        ["show", str(TF1), "--tag_set", "serve"],
        ["show", str(TF1), "--tag_set", "serve", "--signature_def", "classify_x"],
        ["show", str(TF1), "--tag_set", "train", "--format", "json"],
        [
            "show",
            str(TF1),
            "--tag_set",
            "train",
            "--signature_def",
            "sparse_loss",
            "--format",
            "json",
        ],
    ):
        code, _, err = _run(argv, capsys)
        assert code == 0, err


@needs_fixtures
def test_list_ops_uses_wire_scan_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from smlite.formats import saved_model as fmt

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the GraphDef was parsed")

    monkeypatch.setattr(fmt.SavedModelFile, "graph_def", boom)
    code, out, err = _run(["show", str(TF1), "--all"], capsys)
    assert code == 0, err
    assert "contains the following ops: {" in out


@needs_fixtures
def test_json_output_is_a_show_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["show", str(TF1), "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["smlite_json"] == 1
    assert doc["kind"] == "show"
    assert [mg["tags"] for mg in doc["meta_graphs"]] == [["serve"], ["serve", "gpu"], ["train"]]
