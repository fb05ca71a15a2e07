"""A generated fleet of SavedModels for fleet-audit tests and benchmarks.

Healthy models are hard links to the committed fixtures (no disk, fast); a
few damaged ones are real copies with one defect each, and their expected
rule ids are returned so that a test knows what every model must give.
Layout::

    root/team-<k>/model-<i>/            a SavedModel directory
    root/team-<k>/served-<j>/{1,2,tmp-export-3}   a TF Serving base (the fixture)
    root/damaged/<kind>/                one defect each
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
HEALTHY = ("module_multi_signature", "variables_sharded", "tf1_pbtxt", "keras_model")

#: Damage kind -> the rule it must be reported under.
DAMAGE = {
    "truncated_pb": "SML003",
    "missing_shard": "SML203",
    "flipped_variable_byte": "SML205",
    "lfs_pointer": "SML002",
}


def link_tree(src: Path, dst: Path) -> None:
    """``dst`` mirrors ``src`` with hard links (a copy where linking is refused)."""
    for folder, _dirs, files in os.walk(src):
        target = dst / Path(folder).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            try:
                os.link(Path(folder) / name, target / name)
            except OSError:
                shutil.copy2(Path(folder) / name, target / name)


def _damage(kind: str, model: Path) -> None:
    if kind == "truncated_pb":
        pb = model / "saved_model.pb"
        pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])
    elif kind == "missing_shard":
        next((model / "variables").glob("variables.data-*")).unlink()
    elif kind == "flipped_variable_byte":
        shard = next((model / "variables").glob("variables.data-*"))
        data = bytearray(shard.read_bytes())
        data[len(data) // 2] ^= 0xFF
        shard.write_bytes(bytes(data))
    elif kind == "lfs_pointer":
        (model / "saved_model.pb").write_text(
            "version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
            "size 14624\n"
        )
    else:
        raise ValueError(kind)


def make_fleet(root: Path, models: int, *, teams: int = 4, bases: int = 2) -> dict[str, set[str]]:
    """Lay out a fleet under ``root``; return target path -> the rule ids it must fail with.

    Healthy targets map to an empty set.  Damaged models are one per
    :data:`DAMAGE` kind; ``bases`` TF Serving base paths come from the
    ``serving_base`` fixture (whose ``tmp-export-3`` is a model of its own).
    """
    expected: dict[str, set[str]] = {}
    for i in range(models):
        model = root / f"team-{i % teams}" / f"model-{i:04d}"
        link_tree(MODELS / HEALTHY[i % len(HEALTHY)], model)
        expected[str(model)] = set()
    for j in range(bases):
        base = root / f"team-{j % teams}" / f"served-{j}"
        link_tree(MODELS / "serving_base", base)
        expected[str(base)] = set()
        expected[str(base / "1")] = set()
        expected[str(base / "tmp-export-3")] = set()
    for kind, rule_id in DAMAGE.items():
        model = root / "damaged" / kind
        shutil.copytree(MODELS / "module_multi_signature", model)
        _damage(kind, model)
        expected[str(model)] = {rule_id}
    return expected
