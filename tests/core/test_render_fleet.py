"""Fleet results rendered: streamed lines, JSON Lines, the JSON document, SARIF, the summary."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from smlite.model import fleet
from smlite.model.fleet import ModelResult, Target
from smlite.render import fleet as render
from tests.support.fleet import DAMAGE, make_fleet

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ModelResult]]:
    root = tmp_path_factory.mktemp("render-fleet")
    make_fleet(root, 3, bases=1)
    found = list(fleet.audit([str(root)], jobs=1))
    lost = ModelResult(
        Target(str(root / "unreadable"), "model", str(root)),
        "check",
        "error",
        error="s3://b/m/saved_model.pb: cannot read: access denied",
        reason="access-denied",
    )
    return root, [*found, lost]


def _plain(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=200, no_color=True, highlight=False).print(renderable)
    return out.getvalue()


def test_result_lines_say_status_path_and_failing_findings(results: tuple) -> None:
    root, found = results
    by_name = {Path(r.target.path).name: r for r in found}
    text = _plain(render.result_text(by_name["missing_shard"], base=root))
    assert text.startswith("FAIL  damaged/missing_shard")
    assert "SML203" in text
    assert _plain(render.result_text(by_name["model-0000"], base=root)).strip() == (
        "ok    team-0/model-0000"
    )
    base = _plain(render.result_text(by_name["served-0"], base=root))
    assert "TF Serving base, serves version 2" in base and "SML502" not in base  # a note
    lost = _plain(render.result_text(by_name["unreadable"], base=root))
    assert lost.startswith("ERROR unreadable") and "access denied" in lost


def test_jsonl_lines_are_one_object_each(results: tuple) -> None:
    root, found = results
    lines = "".join(render.jsonl_line(render.result_json(r, base=root)) for r in found)
    docs = [json.loads(line) for line in lines.splitlines()]
    assert len(docs) == len(found)
    flipped = next(d for d in docs if d["path"] == "damaged/flipped_variable_byte")
    assert flipped["status"] == "findings" and flipped["kind"] == "fleet-model"
    assert [f["rule"] for f in flipped["report"]["findings"]] == ["SML205"]
    assert flipped["fetched"]["requests"] == 0 and flipped["seconds"] > 0
    lost = next(d for d in docs if d["path"] == "unreadable")
    assert lost["status"] == "error" and lost["reason"] == "access-denied" and "report" not in lost


def test_document_and_summary_count_every_model(results: tuple) -> None:
    root, found = results
    doc = render.fleet_document(found, 2.0, base=root)
    assert doc["kind"] == "fleet" and doc["failed"] is True
    assert [m["path"] for m in doc["models"]] == sorted(m["path"] for m in doc["models"])
    s = doc["summary"]
    assert s["models"] == len(found) and s["findings"] == len(DAMAGE) and s["errors"] == 1
    assert s["ok"] == len(found) - len(DAMAGE) - 1
    assert s["models_per_second"] == round(len(found) / 2.0, 2)
    assert s["size_bytes"] == sum(r.target.size or 0 for r in found)
    assert set(s["top_rules"]) == set(DAMAGE.values())
    table = _plain(render.summary_renderable(found, 2.0))
    assert "with findings" in table and "most frequent:" in table


def test_sarif_has_one_run_and_reports_what_could_not_be_audited(results: tuple) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    root, found = results
    doc = render.fleet_sarif(found, tool_version="0.1.0", base=root)
    jsonschema.validate(doc, json.loads((DATA / "sarif-schema-2.1.0.json").read_text()))
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert {r["ruleId"] for r in run["results"]} >= set(DAMAGE.values())
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "access denied" in note["message"]["text"]


def test_progress_counts_and_rates(results: tuple) -> None:
    _, found = results
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True)
    with render.FleetProgress(len(found), console) as progress:
        for r in found:
            progress.advance(r)
        task = progress._progress.tasks[0]
        assert task.completed == len(found)
        assert "4 FAIL" in task.fields["counts"] and "1 ERROR" in task.fields["counts"]
        assert "models/s" in task.fields["rate"]
