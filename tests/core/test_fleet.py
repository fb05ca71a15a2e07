"""Fleet audits on local folders: discovery, one result per model, local processes."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from smlite.errors import SmliteError
from smlite.model import fleet
from smlite.model.policy import Policy
from smlite.model.rules import Severity
from tests.support.fleet import DAMAGE, make_fleet


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, set[str]]]:
    root = tmp_path_factory.mktemp("fleet")
    return root, make_fleet(root, 8)


def _failing_rules(result: fleet.ModelResult) -> set[str]:
    assert result.report is not None, result.error
    return {f.rule.id for f in result.report.findings if f.level >= Severity.WARNING}


def _outcome(results: list[fleet.ModelResult]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Path -> (status, every finding as text): what must not depend on how it ran."""
    out = {}
    for r in results:
        findings = r.report.findings if r.report is not None else ()
        out[r.target.path] = (
            r.status,
            tuple(sorted(f"{f.rule.id} {f.where.file} {f.message}" for f in findings)),
        )
    return out


def test_discovery_finds_models_bases_and_other_versions(generated: tuple) -> None:
    root, expected = generated
    targets = list(fleet.discover([str(root)]))
    assert sorted(t.path for t in targets) == sorted(expected)
    assert len({t.path for t in targets}) == len(targets)  # each once
    kinds = {t.path: t.kind for t in targets}
    base = root / "team-0" / "served-0"
    assert kinds[str(base)] == "serving-base"
    # The served version (2) is covered by the base; version 1 is a target of its own.
    assert str(base / "2") not in kinds and kinds[str(base / "1")] == "model"
    assert all(t.root == str(root) for t in targets)
    sizes = {t.path: t.size for t in targets}
    model = root / "team-0" / "model-0000"
    assert sizes[str(model)] == sum(p.stat().st_size for p in model.rglob("*") if p.is_file())


def test_discovery_without_recursion_takes_each_root_as_is(generated: tuple) -> None:
    root, _ = generated
    base, model = root / "team-0" / "served-0", root / "team-1" / "model-0001"
    targets = list(fleet.discover([str(base), str(model)], recursive=False))
    assert [(t.path, t.kind) for t in targets] == [
        (str(base), "serving-base"),
        (str(model), "model"),
    ]


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SmliteError, match="no such file or directory"):
        list(fleet.discover([str(tmp_path / "nothing")]))


def test_every_model_gets_its_result_and_damage_is_reported(generated: tuple) -> None:
    root, expected = generated
    results = list(fleet.audit([str(root)], jobs=1))
    assert sorted(r.target.path for r in results) == sorted(expected)
    for r in results:
        assert _failing_rules(r) == expected[r.target.path], r.target.path
        assert r.status == ("findings" if expected[r.target.path] else "ok")
        assert r.seconds > 0 and r.worker
    assert sum(r.status == "findings" for r in results) == len(DAMAGE)


def test_local_processes_give_the_same_results(generated: tuple) -> None:
    root, _ = generated
    alone = list(fleet.audit([str(root)], jobs=1))
    pooled = list(fleet.audit([str(root)], jobs=2))
    assert _outcome(pooled) == _outcome(alone)


def test_scan_and_fingerprint_commands(generated: tuple) -> None:
    root, _ = generated
    scans = list(fleet.audit([str(root)], options=fleet.AuditOptions(command="scan"), jobs=1))
    assert {r.command for r in scans} == {"scan"}
    # scan reads the graph only: damaged variables are not its business.
    failing = sorted(Path(r.target.path).name for r in scans if r.status == "findings")
    assert failing == ["lfs_pointer", "truncated_pb"]
    prints = list(
        fleet.audit([str(root)], options=fleet.AuditOptions(command="fingerprint"), jobs=1)
    )
    by_path = {r.target.path: r for r in prints}
    healthy = by_path[str(root / "team-0" / "model-0000")]
    assert healthy.status == "ok" and healthy.fingerprint is not None
    assert healthy.fingerprint.matches
    flipped = by_path[str(root / "damaged" / "truncated_pb")]
    assert flipped.status == "error" and flipped.error and "saved_model.pb" in flipped.error


def test_an_internal_error_in_one_model_does_not_stop_the_others(
    generated: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, expected = generated
    from smlite.model import checks

    real = checks.check_path
    victim = str(root / "team-1" / "model-0001")

    def flaky(path: object, **kwargs: object) -> object:
        if str(path) == victim:
            raise RuntimeError("boom")
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checks, "check_path", flaky)
    results = {r.target.path: r for r in fleet.audit([str(root)], jobs=1)}
    assert len(results) == len(expected)
    broken = results[victim]
    assert broken.status == "error" and broken.reason == "internal"
    assert broken.error == "internal error: RuntimeError: boom"
    assert sum(r.status == "error" for r in results.values()) == 1


def test_results_and_options_pickle(generated: tuple) -> None:
    root, _ = generated
    options = fleet.AuditOptions(policy=Policy(disabled=frozenset({"SML502"})))
    assert pickle.loads(pickle.dumps(options)) == options
    result = fleet.audit_one(next(fleet.discover([str(root)])), options)
    back = pickle.loads(pickle.dumps(result))
    assert back.target == result.target and back.status == result.status
    assert back.report is not None and result.report is not None
    assert back.report.findings == result.report.findings
