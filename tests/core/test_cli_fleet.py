"""``check|scan|fingerprint ROOT... --recursive`` on local folders, and the storage flags.

The fleet forms stream one line (text) or one object (JSON Lines) per model,
end with a summary, and give the same per-model results with ``-j 1`` and
``-j 2``; SARIF is one run; a model that could not be audited makes the exit
status 2.  ``--storage-option`` and ``--verbose`` are accepted by every
command that reads a model and never leak from one run into the next.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from smlite.cli import COMMANDS, ExitCode, build_app, run
from smlite.formats import storage
from tests.support.fleet import DAMAGE, make_fleet

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "tests" / "fixtures" / "models"


@pytest.fixture(scope="module")
def fleet_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    root = tmp_path_factory.mktemp("cli-fleet")
    return root, make_fleet(root, 6, teams=2, bases=1)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(args)
    out, err = capsys.readouterr()
    return code, out, err


def _models(doc: dict) -> list[dict]:
    drop = {"seconds", "worker", "fetched"}
    return [{k: v for k, v in m.items() if k not in drop} for m in doc["models"]]


def test_text_streams_a_line_per_model_and_a_summary(
    fleet_root: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    root, expected = fleet_root
    code, out, _ = _run(["check", str(root), "--recursive", "-j", "1"], capsys)
    assert code == ExitCode.FINDINGS
    assert sum(line.startswith(("ok ", "FAIL ")) for line in out.splitlines()) == len(expected)
    assert "fleet summary" in out
    for kind, rule in DAMAGE.items():
        assert f"FAIL  {root}/damaged/{kind}" in out and rule in out


def test_json_is_the_same_with_one_and_two_processes(
    fleet_root: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    root, expected = fleet_root
    docs = []
    for jobs in ("1", "2"):
        code, out, _ = _run(["check", str(root), "-r", "-j", jobs, "--format", "json"], capsys)
        assert code == ExitCode.FINDINGS
        docs.append(json.loads(out))
    assert _models(docs[0]) == _models(docs[1])
    assert sorted(m["path"] for m in docs[0]["models"]) == sorted(expected)
    assert docs[0]["summary"]["findings"] == len(DAMAGE)


def test_jsonl_is_one_object_per_model_then_the_summary(
    fleet_root: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    root, expected = fleet_root
    code, out, _ = _run(["scan", str(root), "-r", "-j", "2", "--format", "jsonl"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["kind"] for d in lines] == ["fleet-model"] * len(expected) + ["fleet-summary"]
    assert {d["path"] for d in lines[:-1]} == set(expected)
    assert lines[-1]["models"] == len(expected)
    # scan audits ops: the truncated graph does not open (SML003 belongs to check).
    assert code == ExitCode.FINDINGS


def test_jsonl_without_recursive_takes_each_path_as_one_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = [str(MODELS / "module_one_signature"), str(MODELS / "serving_base")]
    code, out, _ = _run(["check", *paths, "--format", "jsonl", "-j", "1"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert sorted(d["target"] for d in lines[:-1]) == ["model", "serving-base"]
    assert lines[-1]["models"] == 2
    assert code == ExitCode.OK


def test_sarif_is_one_valid_run(fleet_root: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    root, _ = fleet_root
    code, out, _ = _run(["check", str(root), "-r", "-j", "1", "--format", "sarif"], capsys)
    doc = json.loads(out)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    assert len(doc["runs"]) == 1
    rules = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert set(DAMAGE.values()) <= rules
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True
    assert code == ExitCode.FINDINGS


def test_fingerprint_of_several_models_is_a_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(MODELS / n) for n in ("module_one_signature", "variables_sharded")]
    code, out, _ = _run(["fingerprint", *paths, "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == ExitCode.OK
    assert [m["fingerprint"]["status"] for m in doc["models"]] == ["match", "match"]


def test_output_file_and_never_inside_a_model(
    fleet_root: tuple, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root, _ = fleet_root
    target = tmp_path / "fleet.jsonl"
    code, out, _ = _run(
        ["check", str(root), "-r", "-j", "1", "--format", "jsonl", "-o", str(target)], capsys
    )
    assert code == ExitCode.FINDINGS and out == ""
    assert json.loads(target.read_text().splitlines()[-1])["kind"] == "fleet-summary"
    inside = root / "team-0" / "model-0000" / "out.json"
    code, _, err = _run(["check", str(root), "-r", "-o", str(inside)], capsys)
    assert code == ExitCode.ERROR and "refusing to write inside" in err
    assert not inside.exists()


def test_nothing_to_audit_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["check", str(tmp_path), "--recursive"], capsys)
    assert code == ExitCode.ERROR and "no SavedModel found" in err


@pytest.mark.skipif(
    importlib.util.find_spec("distributed") is not None, reason="dask.distributed is installed"
)
def test_dask_without_the_extra_says_how_to_get_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        ["check", str(MODELS / "module_one_signature"), "--dask", "tcp://x:1"], capsys
    )
    assert code == ExitCode.ERROR and "pip install 'smlite[fleet]'" in err


@pytest.mark.parametrize(
    "command",
    sorted(c for c in COMMANDS if c != "precommit"),
)
def test_every_model_command_takes_the_storage_flags(command: str) -> None:
    app = build_app([command])
    import typer.main

    group = typer.main.get_command(app)
    click_command = group.commands[command]  # type: ignore[attr-defined]
    params = {o for p in click_command.params for o in getattr(p, "opts", [])}
    assert {"--storage-option", "--verbose"} <= params


def test_a_bad_storage_option_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        ["show", "--dir", str(MODELS / "module_one_signature"), "--storage-option", "novalue"],
        capsys,
    )
    assert code == ExitCode.ERROR and "expected KEY=VALUE" in err


def test_storage_options_stay_in_their_run(capsys: pytest.CaptureFixture[str]) -> None:
    model = str(MODELS / "module_one_signature")
    assert run(["show", "--dir", model, "--storage-option", "anon=true"]) == ExitCode.OK
    capsys.readouterr()
    assert dict(storage.current_options()[0]) == {}


def test_verbose_says_what_was_read(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["check", str(MODELS / "module_one_signature"), "--verbose"], capsys)
    assert code == ExitCode.OK
    assert err.startswith("smlite: read ") and "0 read requests, 0 listing requests" in err


def test_check_json_says_what_each_model_read(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _run(["check", str(MODELS / "module_one_signature"), "--format", "json"], capsys)
    fetched = json.loads(out)["models"][0]["fetched"]
    assert fetched["requests"] == 0 and fetched["list_requests"] == 0
