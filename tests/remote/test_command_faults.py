"""Faults through the commands: a clear error and exit status 2, never a result that passes.

A model whose files cannot all be read was not audited: ``check`` says so
(exit 2) instead of reporting the unread file as a finding or, worse,
nothing; a fleet reports that model as not audited and the others as they
are; a transient failure that a retry cures leaves no trace but the retry
count.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from smlite.cli import ExitCode, run
from tests.remote.conftest import MODELS
from tests.support.big_model import big_saved_model
from tests.support.http_server import Fault, ModelServer

MODEL = "variables_sharded"
SHARD = f"{MODEL}/variables/variables.data-00004-of-00005"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def served(request: pytest.FixtureRequest) -> Iterator[ModelServer]:
    faults: dict[str, Fault] = request.param
    with ModelServer(MODELS, faults=faults) as server:
        yield server


@pytest.mark.parametrize(
    ("served", "command", "reason"),
    [
        ({SHARD: Fault(status=403)}, ["check", "{m}"], "access denied"),
        ({SHARD: Fault(status=403)}, ["variables", "{m}", "--verify"], "access denied"),
        ({f"{MODEL}/saved_model.pb": Fault(truncate_to=1000)}, ["check", "{m}"], "cut short"),
        (
            {f"{MODEL}/saved_model.pb": Fault(reset_after=4096)},
            ["fingerprint", "{m}"],
            "saved_model.pb",
        ),
        (
            {f"{MODEL}/variables/variables.index": Fault(announce_size=100, get_only=False)},
            ["check", "{m}", "--format", "json"],
            "variables.index",
        ),
        ({f"{MODEL}/saved_model.pb": Fault(status=500)}, ["show", "--dir", "{m}"], "unavailable"),
    ],
    indirect=["served"],
    ids=["check-403", "verify-403", "check-truncated", "fingerprint-reset", "size", "show-500"],
)
def test_a_remote_fault_is_an_error_with_exit_status_2(
    served: ModelServer, command: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{served.url}/{MODEL}"
    code, out, err = _run([url if a == "{m}" else a for a in command], capsys)
    assert code == ExitCode.ERROR, (out, err)
    assert "smlite: error: " in err and reason in err and served.url in err
    assert "Traceback" not in err
    assert "passed" not in out and '"failed": false' not in out


@pytest.mark.parametrize(
    "served", [{f"{MODEL}/saved_model.pb": Fault(status=503, times=2)}], indirect=True
)
def test_500s_then_success_pass_after_retries(
    served: ModelServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["check", f"{served.url}/{MODEL}", "--verbose"], capsys)
    assert code == ExitCode.OK, err
    assert "2 retries" in err and "all passed" in out


def test_a_server_ignoring_range_still_gives_the_answer_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    big = big_saved_model(MODELS / "module_multi_signature", 4 << 20)
    with ModelServer(files={"big/saved_model.pb": big}, ranges=False) as server:
        code, out, err = _run(["show", "--dir", f"{server.url}/big", "--verbose"], capsys)
        gets = server.requests("GET", under="/big/saved_model.pb")
    assert code == ExitCode.OK, err
    assert out == "The given SavedModel contains the following tag-sets:\n'serve'\n"
    assert "the server ignored Range" in err and "/big/saved_model.pb" in err
    assert len(gets) == 1 and gets[0].body_bytes == big.size  # downloaded once


@pytest.mark.parametrize(
    "served", [{"module_one_signature/saved_model.pb": Fault(status=403)}], indirect=True
)
def test_a_fleet_reports_the_unreadable_model_and_audits_the_others(
    served: ModelServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    roots = [f"{served.url}/{name}" for name in ("module_one_signature", MODEL, "serving_base")]
    code, out, err = _run(["check", *roots, "-j", "1", "--format", "jsonl"], capsys)
    assert code == ExitCode.ERROR, err
    lines = [json.loads(line) for line in out.splitlines()]
    models, summary = lines[:-1], lines[-1]
    by_path = {m["path"]: m for m in models}
    broken = by_path[roots[0]]
    assert broken["status"] == "error" and broken["reason"] == "access-denied"
    assert "report" not in broken
    assert by_path[roots[1]]["status"] == "ok"
    assert summary["kind"] == "fleet-summary" and summary["errors"] == 1 and summary["ok"] >= 1
