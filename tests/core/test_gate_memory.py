"""`check` of a 200 MB saved_model.pb stays within a bound of memory (RLIMIT_AS).

The model is generated here: a graph of a few large constants plus a call
node and a library function, with a fingerprint.pb that matches, so that
`check` re-serializes and hashes every byte.  The command runs in a
subprocess under an address-space limit that leaves room for the memory map
of the file and one copy of it, not for a parse of the whole model or a
second copy.  Nothing here asserts on timing (benchmarks/ does).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import smlite
from smlite import pb
from smlite.model.fingerprint import FIELDS, compute

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is Linux-specific")

REPO = Path(__file__).resolve().parents[2]
MiB = 2**20
CONSTANT = 50 * MiB
CONSTANTS = 4

_DRIVER = r"""
import contextlib, io, json, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from smlite.cli import run
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = run(["check", sys.argv[2], "--no-progress", "--format", "json"])
sys.__stdout__.write(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue()}))
"""


def _baseline_address_space() -> int:
    """Peak address space of the same interpreter doing the same imports on a tiny model."""
    probe = (
        "import resource, smlite.cli, smlite.model.checks, numpy\n"
        "with open('/proc/self/status') as f:\n"
        "    print([l for l in f if l.startswith('VmPeak')][0].split()[1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return int(out) * 1024


def _write_model(path: Path) -> None:
    sm = pb.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    mg.meta_info_def.tensorflow_version = "2.21.0"
    graph = mg.graph_def
    graph.versions.producer = 2000
    graph.node.add(name="x", op="Placeholder").attr["dtype"].type = pb.DataType.DT_FLOAT
    for i in range(CONSTANTS):
        const = graph.node.add(name=f"c{i}", op="Const")
        const.attr["dtype"].type = pb.DataType.DT_FLOAT
        tensor = const.attr["value"].tensor
        tensor.dtype = pb.DataType.DT_FLOAT
        tensor.tensor_shape.dim.add(size=CONSTANT // 4)
        tensor.tensor_content = bytes([i + 1]) * CONSTANT
    call = graph.node.add(name="y", op="StatefulPartitionedCall", input=["x"])
    call.attr["f"].func.name = "__inference_f_12"
    fn = graph.library.function.add()
    fn.signature.name = "__inference_f_12"
    fn.signature.input_arg.add(name="a", type=pb.DataType.DT_FLOAT)
    fn.signature.output_arg.add(name="b", type=pb.DataType.DT_FLOAT)
    fn.node_def.add(name="i", op="Identity", input=["a"]).attr["T"].type = pb.DataType.DT_FLOAT
    fn.ret["b"] = "i:output:0"
    sig = mg.signature_def["serving_default"]
    sig.method_name = "tensorflow/serving/predict"
    sig.inputs["x"].name = "x:0"
    sig.inputs["x"].dtype = pb.DataType.DT_FLOAT
    sig.outputs["y"].name = "y:0"
    sig.outputs["y"].dtype = pb.DataType.DT_FLOAT
    path.mkdir()
    (path / "saved_model.pb").write_bytes(sm.SerializeToString())
    with smlite.open(path) as model:
        values = compute(model)
    stored = pb.FingerprintDef(**{name: getattr(values, name) for name in FIELDS})
    stored.version.producer = 4
    (path / "fingerprint.pb").write_bytes(stored.SerializeToString())


def test_check_of_a_200_mb_model_stays_within_its_memory_bound(tmp_path: Path) -> None:
    model = tmp_path / "big"
    _write_model(model)
    size = (model / "saved_model.pb").stat().st_size
    assert size >= 200 * MiB
    # Interpreter and libraries, the memory maps of the file, one copy of it, and slack;
    # a whole-model parse or copies of the graph next to the file's do not fit.
    limit = _baseline_address_space() + int(2.5 * size) + 200 * MiB
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(limit), str(model)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert "MemoryError" not in result["err"]
    assert result["code"] in (0, 1), result["err"]
    (checked,) = json.loads(result["out"])["models"]
    assert checked["skipped"] == []  # the fingerprint was recomputed, not given up
    # It matched fingerprint.pb; the only finding is the note that the model is all constants.
    assert [f["rule"] for f in checked["findings"]] == ["SML704"]
