"""Bounded resources on hostile models: every command under a 2 GiB address-space limit.

Each adversarial model is built here, byte by byte where TensorFlow would
never write it: bundle entries claiming terabyte tensors, an SSTable claiming
billions of blocks, a saved_model.pb declaring a terabyte meta graph, nesting
far beyond protobuf's recursion limit, a GraphDef with very many nodes.  One
subprocess per model runs every command in-process under
``RLIMIT_AS = 2 GiB`` (and a wall-clock timeout, so a hang fails instead of
blocking CI); each command must end with exit status 0, 1 or 2, never a
MemoryError or a traceback.  Nothing here asserts on timing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smlite import pb
from tests.support.bundle_writer import BundleWriter, assemble_table, encode_block, varint

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is Linux-specific")

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "tests" / "fixtures" / "models"
LIMIT = 2 * 2**30
TIMEOUT = 300

# Runs the CLI in-process on each argv of argv[2] under the address-space limit
# argv[1], and prints one JSON result per command.  `smlite run` stops before
# executing anything: only its reading and input validation are under test.
_DRIVER = r"""
import contextlib, io, json, resource, sys, time, traceback
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from smlite.cli import run
from smlite.errors import SmliteError
import smlite.run

def refuse(plan):
    raise SmliteError("resource test: not executing")

smlite.run.execute = refuse
results = []
for argv in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(argv)
    except BaseException:
        code = "crash"
        err.write(traceback.format_exc())
    seconds = round(time.monotonic() - started, 2)
    results.append({"argv": argv, "code": code, "err": err.getvalue()[-3000:], "s": seconds})
sys.__stdout__.write(json.dumps(results))
"""


def _key(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def _ld(field: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _key(field, 2) + varint(len(payload)) + payload


def _commands(model: Path, tmp: Path) -> list[list[str]]:
    m = str(model)
    return [
        ["show", m, "--all"],
        ["show", m, "--all", "--format", "json"],
        ["show", m, "--tag_set", "serve", "--list_ops"],
        ["summary", m],
        ["summary", m, "--format", "json"],
        ["variables", m],
        ["variables", m, "--verify", "--format", "json"],
        ["variables", m, "--dump", "w"],
        ["variables", m, "--export", str(tmp / "out.npz")],
        ["check", m, "--no-progress"],
        ["check", m, "--no-progress", "--format", "sarif"],
        ["scan", m, "--format", "json"],
        ["scan", "--dir", m],
        ["fingerprint", m, "--format", "json"],
        ["size", m],
        ["size", m, "--format", "json", "--top", "3"],
        ["report", m, "-o", str(tmp / "report.html")],
        ["run", m, "--input_exprs", "inputs=np.zeros((1, 3));inputs_1=np.zeros((1, 2))"],
    ]


def _run_bounded(model: Path, tmp: Path) -> list[dict[str, Any]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    # Thread pools reserve address space per thread; one thread keeps the limit meaningful.
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(LIMIT), json.dumps(_commands(model, tmp))],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    if os.environ.get("SMLITE_TEST_VERBOSE"):
        for r in results:
            print(f"{r['s']:8.2f}s {r['code']} {_shown(r['argv'])}")
    for r in results:
        where = f"{_shown(r['argv'])}: {r['err']}"
        assert r["code"] in (0, 1, 2), where
        assert "Traceback" not in r["err"] and "MemoryError" not in r["err"], where
    return results


def _codes(results: list[dict[str, Any]]) -> dict[str, int]:
    """Exit codes by command line, the model path written as M."""
    return {_shown(r["argv"]): r["code"] for r in results}


def _shown(argv: list[str]) -> str:
    return " ".join("M" if a.endswith("/model") else a for a in argv)


def _model(tmp: Path, name: str = "keras_model") -> Path:
    model = tmp / "model"
    shutil.copytree(MODELS / name, model)
    return model


def _replace_variables(model: Path, writer_setup: Any) -> None:
    shutil.rmtree(model / "variables")
    w = BundleWriter(model / "variables" / "variables")
    writer_setup(w)
    w.finish()


def test_bundle_entries_claiming_terabyte_tensors(tmp_path: Path) -> None:
    model = _model(tmp_path)

    def setup(w: BundleWriter) -> None:
        # 2**40 float32s (4 TiB) claimed by a 16-byte entry, and by an entry
        # whose size field says 4 TiB too.
        w.add_bytes("w", b"\0" * 16, dtype=1, shape=[2**20, 2**20])
        e = w.add_bytes("big_size", b"\0" * 16, dtype=1, shape=[2**20, 2**20])
        e.size = 4 * 2**40
        # A trillion strings in 8 bytes; a string whose length prefix says 2**62.
        w.add_bytes("strings", b"\0" * 8, dtype=7, shape=[10**12])
        w.add_bytes("long_string", varint(2**62) + b"\0" * 8, dtype=7, shape=[1])
        # Dimensions whose product overflows int64.
        w.add_bytes("overflow", b"\0" * 4, dtype=1, shape=[2**40, 2**40, 2**40])
        # A partitioned tensor claiming 2**40 elements tiled by one small slice.
        w.add_sliced("part", np.zeros((2, 2), np.float32), [[(0, 2), (0, 2)]])
        full = w.entries[b"part"]
        full.shape.dim[0].size = 2**40

    _replace_variables(model, setup)
    results = _run_bounded(model, tmp_path)
    codes = _codes(results)
    assert codes["variables M"] in (0, 2)
    assert codes["variables M --dump w"] == 2


def test_sstable_claiming_billions_of_blocks(tmp_path: Path) -> None:
    model = _model(tmp_path)
    index = model / "variables" / "variables.index"
    # An index block whose restart count says 2**32 - 1 restarts (fixed32 at
    # its end), and a footer whose index handle claims a 2**50-byte block.
    block = bytearray(encode_block([(b"", b"")]))
    block[-4:] = struct.pack("<I", 0xFFFFFFFF)
    table = assemble_table([(bytes(block), b"\xff")])
    index.write_bytes(table)
    _run_bounded(model, tmp_path)
    huge = bytearray(table)
    footer = len(huge) - 48
    huge[footer : footer + 20] = varint(0) + varint(2**40) + varint(0) + varint(2**50)
    index.write_bytes(bytes(huge[: len(table)]))
    _run_bounded(model, tmp_path)


def test_saved_model_pb_with_huge_declared_lengths(tmp_path: Path) -> None:
    model = _model(tmp_path)
    pb_file = model / "saved_model.pb"
    # A meta graph declared 2**40 bytes long, then a GraphDef declared 2**40
    # bytes long inside a well-formed meta graph.
    pb_file.write_bytes(_key(1, 0) + varint(1) + _key(2, 2) + varint(2**40) + b"\0" * 64)
    results = _run_bounded(model, tmp_path)
    codes = _codes(results)
    assert codes["show M --all"] == codes["summary M"] == codes["fingerprint M --format json"] == 2
    assert codes["check M --no-progress"] == 1  # check reports the damage as a finding
    meta = _ld(1, _ld(1, b"serve")) + _key(2, 2) + varint(2**40) + b"\0" * 64
    pb_file.write_bytes(_key(1, 0) + varint(1) + _ld(2, meta))
    _run_bounded(model, tmp_path)


def _nested_list(depth: int) -> bytes:
    """A StructuredValue of ``depth`` nested list_value (field 51 -> ListValue.values 1)."""
    value = _ld(11, b"")  # none_value at the bottom
    for _ in range(depth):
        value = _ld(51, _ld(1, value))
    return value


def _meta_graph_with_signature(structured: bytes) -> bytes:
    """A SavedModel whose one concrete function has ``structured`` as output signature."""
    function = _ld(4, structured)  # SavedConcreteFunction.output_signature
    entry = _ld(1, b"__inference_f_1") + _ld(2, function)
    object_graph = _ld(2, entry)  # SavedObjectGraph.concrete_functions
    user = pb.SavedObject()
    user.function.concrete_functions.append("__inference_f_1")
    root = pb.SavedObject()
    root.children.add(node_id=1, local_name="f")
    object_graph = (
        _ld(1, root.SerializeToString()) + _ld(1, user.SerializeToString()) + object_graph
    )
    meta = _ld(1, _ld(4, b"serve")) + _ld(7, object_graph)  # meta_info_def.tags, object_graph_def
    return _key(1, 0) + varint(1) + _ld(2, meta)


@pytest.mark.parametrize("depth", [30, 60, 5000])
def test_deeply_nested_structured_value(tmp_path: Path, depth: int) -> None:
    """Within protobuf's recursion limit it decodes; beyond it, a clean error."""
    model = _model(tmp_path)
    (model / "saved_model.pb").write_bytes(_meta_graph_with_signature(_nested_list(depth)))
    results = _run_bounded(model, tmp_path)
    if depth >= 100:
        assert _codes(results)["show M --all"] == 2


def test_deeply_nested_graph_attr(tmp_path: Path) -> None:
    """A NodeDef attr of nested func attrs (AttrValue.func -> NameAttrList.attr ...)."""
    model = _model(tmp_path)
    attr: bytes = _ld(1, b"leaf")  # NameAttrList.name
    for _ in range(5000):
        value = _ld(10, attr)  # AttrValue.func
        attr = _ld(1, b"f") + _ld(2, _ld(1, b"a") + _ld(2, value))  # name, attr map entry
    node = _ld(1, b"n") + _ld(2, b"PartitionedCall") + _ld(5, _ld(1, b"f") + _ld(2, _ld(10, attr)))
    graph = _ld(1, node)
    meta = _ld(1, _ld(4, b"serve")) + _ld(2, graph)
    (model / "saved_model.pb").write_bytes(_key(1, 0) + varint(1) + _ld(2, meta))
    _run_bounded(model, tmp_path)


def test_graph_with_very_many_nodes(tmp_path: Path) -> None:
    """30,000 nodes, 500 signatures, 1,000 variables: fine unless something is quadratic."""
    model = _model(tmp_path)
    nodes = b"".join(
        _ld(1, _ld(1, b"n%d" % i) + _ld(2, b"Const" if i % 2 else b"Identity"))
        for i in range(30_000)
    )
    signatures = b"".join(
        _ld(5, _ld(1, b"sig%d" % i) + _ld(2, _ld(3, b"tensorflow/serving/predict")))
        for i in range(500)
    )
    meta = _ld(1, _ld(4, b"serve")) + _ld(2, nodes) + signatures
    (model / "saved_model.pb").write_bytes(_key(1, 0) + varint(1) + _ld(2, meta))

    def setup(w: BundleWriter) -> None:
        for i in range(1_000):
            w.add_bytes(f"v{i:05d}", b"\0\0\0\0", dtype=1, shape=[1])

    _replace_variables(model, setup)
    results = _run_bounded(model, tmp_path)
    assert _codes(results)["show M --tag_set serve --list_ops"] == 0


def test_hostile_keras_metadata(tmp_path: Path) -> None:
    """keras_metadata.pb: JSON nested 200,000 deep, 2,000 Lambda layers whose bytecode
    declares 2**31-item tuples and 2**31-digit integers, and an entry claiming 2**40 bytes."""
    from tests.support.marshal_writer import CodeSpec, Raw, dumps

    model = tmp_path / "model"
    shutil.copytree(REPO / "tests" / "fixtures" / "keras" / "lambda_expr", model)
    path = model / "keras_metadata.pb"
    hostile = dumps(
        CodeSpec(consts=(Raw(b"(\xff\xff\xff\x7f"), Raw(b"l\xff\xff\xff\x7f"))), (3, 11)
    )
    code = base64.b64encode(hostile).decode()
    layers = [
        {
            "class_name": "Lambda",
            "config": {
                "name": f"l{i}",
                "function": [code, None, None],
                "function_type": "lambda",
                "module": "m",
            },
        }
        for i in range(2000)
    ]
    root = {"class_name": "Functional", "config": {"name": "m", "layers": layers}}
    meta = pb.KerasSavedMetadata()
    meta.nodes.add(
        node_id=0, node_path="root", identifier="_tf_keras_network", metadata=json.dumps(root)
    )
    meta.nodes.add(
        node_id=1,
        node_path="root.layer-0",
        identifier="_tf_keras_layer",
        metadata="[" * 200_000 + "]" * 200_000,
    )
    path.write_bytes(meta.SerializeToString())
    codes = _codes(_run_bounded(model, tmp_path))
    assert codes["check M --no-progress"] == codes["scan M --format json"] == 1
    path.write_bytes(meta.SerializeToString() + _key(1, 2) + varint(2**40) + b"\0" * 16)
    codes = _codes(_run_bounded(model, tmp_path))
    assert codes["check M --no-progress"] == 1
