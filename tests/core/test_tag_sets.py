"""Tag-sets are read one way everywhere; ``''`` names the empty tag-set (TF-Hub modules).

A TF1 TF-Hub module exports a meta graph without tags.  ``--tag_set ''`` is the
documented spelling for it (``saved_model_utils.get_meta_graph_def``: "the
empty string tag is ignored so that passing '' means the empty tag set"), and
every command and the Python API accept it; no error ever offers a choice that
is then refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import smlite
from smlite import pb
from smlite.cli import run
from smlite.errors import TagSetNotFoundError
from smlite.model.saved_model import format_tag_set, parse_tag_set
from smlite.run import prepare

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"


@pytest.fixture
def hub_like(tmp_path: Path) -> Path:
    """tf1_multi_tag with the tags of its 'serve,gpu' meta graph removed (as a Hub module has)."""
    model = tmp_path / "hub_like"
    shutil.copytree(MODELS / "tf1_multi_tag", model)
    path = model / "saved_model.pb"
    message = pb.SavedModel.FromString(path.read_bytes())
    assert list(message.meta_graphs[1].meta_info_def.tags) == ["serve", "gpu"]
    del message.meta_graphs[1].meta_info_def.tags[:]
    path.write_bytes(message.SerializeToString())
    return model


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = run(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_tag_set() -> None:
    assert parse_tag_set("") == frozenset()
    assert parse_tag_set(" , ") == frozenset()
    assert parse_tag_set("serve, gpu") == {"serve", "gpu"}
    assert parse_tag_set("serve, gpu", strip=False) == {"serve", " gpu"}
    assert parse_tag_set([]) == frozenset()
    assert format_tag_set(()) == ""
    assert parse_tag_set(format_tag_set({"gpu", "serve"})) == {"gpu", "serve"}


def test_python_api(hub_like: Path) -> None:
    with smlite.open(hub_like) as sm:
        assert sm.meta_graph("").index == 1
        assert sm.meta_graph([]).index == 1
        assert sm.meta_graph(" ").index == 1
        assert sm.meta_graph("", strip=False).index == 1


@pytest.mark.parametrize(
    "flags",
    [
        ["--tag_set", ""],
        ["--tag_set", "", "--signature_def", "serving_default"],
        ["--tag_set", "", "--list_ops"],
        ["--tag_set", " ", "--signature_def", "serving_default"],
        ["--tag_set", "", "--signature_def", "serving_default", "--format", "json"],
    ],
)
def test_show_accepts_the_empty_tag_set(
    flags: list[str], hub_like: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with smlite.open(hub_like) as sm:
        signatures = list(sm.meta_graph("").signatures)
    assert "serving_default" in signatures
    code, out, err = _run(["show", str(hub_like), *flags], capsys)
    assert (code, err) == (0, "")
    assert out


def test_every_choice_offered_is_accepted(
    hub_like: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(TagSetNotFoundError) as info, smlite.open(hub_like) as sm:
        sm.meta_graph("nope")
    assert info.value.choices == ("", "serve", "train")
    for choice in info.value.choices:
        for flags in (["--list_ops"], ["--signature_def", "serving_default"], []):
            code, _, err = _run(["show", str(hub_like), "--tag_set", choice, *flags], capsys)
            if code != 0:
                # Only an unknown signature may fail; never the tag-set just offered.
                assert "signature 'serving_default' not found" in err, (choice, flags, err)


def test_spaces_are_kept_when_listing_signatures(
    hub_like: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # saved_model_cli matches tags as typed when listing signature keys; the hint offers ''.
    code, _, err = _run(["show", str(hub_like), "--tag_set", " "], capsys)
    assert code == 2
    assert err.endswith("without the spaces: ''\n")
    code, out, _ = _run(["show", str(hub_like), "--tag_set", ""], capsys)
    assert code == 0 and 'SignatureDef key: "serving_default"' in out


def test_scan_dir(hub_like: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # saved_model_cli scans every meta graph when --tag_set is empty (the empty one included).
    code, out, _ = _run(["scan", "--dir", str(hub_like), "--tag_set", ""], capsys)
    assert code == 0 and out.count("MetaGraph with tag set") == 3
    assert "MetaGraph with tag set [] does not contain" in out
    # A tag-set that is only commas and spaces names the empty tag-set itself.
    code, out, _ = _run(["scan", "--dir", str(hub_like), "--tag_set", " , "], capsys)
    assert code == 0 and out.startswith("MetaGraph with tag set [] ")
    assert out.count("MetaGraph with tag set") == 1


def test_run_prepare(hub_like: Path) -> None:
    plan = prepare(
        hub_like,
        tag_set="",
        signature_def="serving_default",
        input_exprs="x=np.zeros((1, 2), dtype='float32')",
    )
    assert plan.tags == ()


def test_policy_can_require_the_empty_tag_set(hub_like: Path, tmp_path: Path) -> None:
    from smlite.model.checks import check_path
    from smlite.model.policy import Policy

    policy = Policy.from_table({"required-tag-sets": [""]})
    assert policy.required_tag_sets == (frozenset(),)
    report = check_path(hub_like, policy=policy)
    assert not [f for f in report.findings if f.rule.id == "SML103"]
    report = check_path(MODELS / "tf1_multi_tag", policy=policy)
    (missing,) = [f for f in report.findings if f.rule.id == "SML103"]
    assert "no meta graph has tag-set '' (required by the policy)" in missing.message
