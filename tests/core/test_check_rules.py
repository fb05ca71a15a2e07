"""Every rule of the catalogue: declared by a registered check, and produced by a model built here.

``CASES`` maps each rule id to a builder of a model (a fixture copy broken in one
way, or a SavedModel written from protos) that must produce that finding; a
test fails when a rule has no case, so a new rule comes with its test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from smlite import pb
from smlite.model.checks import REGISTRY, CheckContext, check_path
from smlite.model.checks.base import Check, Emit, Stage
from smlite.model.policy import Policy
from smlite.model.rules import RULES
from tests.core.test_keras import edit_metadata, lambda_configs
from tests.support import saved_model_bytes as smb
from tests.support.bundle_writer import varint
from tests.support.model_builder import func_attr, function, node, string_attr, write_model

MODELS = Path(__file__).resolve().parents[1] / "fixtures" / "models"
KERAS = Path(__file__).resolve().parents[1] / "fixtures" / "keras"


@dataclass(frozen=True)
class Case:
    path: Path
    policy: Policy = field(default_factory=Policy)


Builder = Callable[[Path], Case]


def copy(name: str, tmp_path: Path, root: Path = MODELS) -> Path:
    dst = tmp_path / "repo" / name
    shutil.copytree(root / name, dst, symlinks=True)
    (tmp_path / "repo" / ".git").mkdir(exist_ok=True)
    return dst


def edit(model: Path, change: Callable[[pb.SavedModel], None]) -> Path:
    path = model / "saved_model.pb"
    message = pb.SavedModel.FromString(path.read_bytes())
    change(message)
    path.write_bytes(message.SerializeToString())
    return model


def served(tmp_path: Path, *nodes: pb.NodeDef, **kwargs: object) -> Case:
    """A model whose serving_default output is the last node given (so it runs when served)."""
    out = nodes[-1].name
    return Case(write_model(tmp_path / "m", list(nodes), outputs={"y": f"{out}:0"}, **kwargs))


def x() -> pb.NodeDef:
    return node("x", "Placeholder", dtype=pb.AttrValue(type=7))


def call(name: str, fn: str, *inputs: str) -> pb.NodeDef:
    return node(name, "StatefulPartitionedCall", *inputs, f=func_attr(fn))


def _frozen_graph(tmp_path: Path) -> Case:
    model = tmp_path / "m"
    model.mkdir()
    graph = pb.GraphDef(node=[x(), node("y", "Identity", "x")])
    (model / "saved_model.pb").write_bytes(graph.SerializeToString())
    return Case(model)


def _damaged_graph(tmp_path: Path) -> Case:
    model = tmp_path / "m"
    model.mkdir()
    header = pb.MetaGraphDef()
    header.meta_info_def.tags.append("serve")
    garbage = b"\x0a\x05ab"  # a node field that claims 5 bytes where 2 follow
    meta = header.SerializeToString() + b"\x12" + varint(len(garbage)) + garbage
    (model / "saved_model.pb").write_bytes(b"\x08\x01\x12" + varint(len(meta)) + meta)
    return Case(model)


def _duplicate_tags(tmp_path: Path) -> Case:
    def change(sm: pb.SavedModel) -> None:
        del sm.meta_graphs[2].meta_info_def.tags[:]
        sm.meta_graphs[2].meta_info_def.tags.append("serve")

    return Case(edit(copy("tf1_multi_tag", tmp_path), change))


def _tf1_ghost_variable(tmp_path: Path) -> Case:
    def change(sm: pb.SavedModel) -> None:
        ghost = pb.VariableDef(variable_name="ghost:0").SerializeToString()
        sm.meta_graphs[0].collection_def["variables"].bytes_list.value.append(ghost)

    return Case(edit(copy("tf1_multi_tag", tmp_path), change))


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def _variables(
    tmp_path: Path, damage: Callable[[Path], None], name: str = "module_one_signature"
) -> Case:
    model = copy(name, tmp_path)
    damage(model / "variables")
    return Case(model)


def _serving(tmp_path: Path, damage: Callable[[Path], None]) -> Case:
    base = copy("serving_base", tmp_path)
    damage(base)
    return Case(base)


def _fingerprint(tmp_path: Path, damage: Callable[[Path], None]) -> Case:
    model = copy("module_one_signature", tmp_path)
    damage(model / "fingerprint.pb")
    return Case(model)


def _tamper(path: Path) -> None:
    fp = pb.FingerprintDef.FromString(path.read_bytes())
    fp.signature_def_hash ^= 1
    path.write_bytes(fp.SerializeToString())


def _const(name: str, value: bytes) -> pb.NodeDef:
    tensor = pb.TensorProto(dtype=7, string_val=[value])
    return node(name, "Const", value=pb.AttrValue(tensor=tensor), dtype=pb.AttrValue(type=7))


def _folder(*files: tuple[str, bytes]) -> Builder:
    """A builder of a model folder holding ``files`` (name, bytes) and nothing else."""

    def build(tmp_path: Path) -> Case:
        model = tmp_path / "m"
        model.mkdir()
        for name, data in files:
            (model / name).write_bytes(data)
        return Case(model)

    return build


def _pb_and_pbtxt(tmp_path: Path) -> Case:
    model = write_model(tmp_path / "m", [x()])
    (model / "saved_model.pbtxt").write_text("meta_graphs {}\n")
    return Case(model)


def _bad_warmup(tmp_path: Path) -> Case:
    model = copy("tf1_multi_tag", tmp_path)
    (model / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"\x00" * 5)
    return Case(model)


def _keras(name: str) -> Builder:
    return lambda tmp_path: Case(copy(name, tmp_path, KERAS))


def _opaque_lambda(tmp_path: Path) -> Case:
    model = copy("lambda_expr", tmp_path, KERAS)

    def swap(node: object, value: object) -> object:
        for config in lambda_configs(value):
            config["function"]["items"][0] = ""
        return value

    edit_metadata(model, swap)
    return Case(model)


def _unreadable_keras_metadata(tmp_path: Path) -> Case:
    model = copy("lambda_os_system", tmp_path, KERAS)
    path = model / "keras_metadata.pb"
    path.write_bytes(path.read_bytes()[:-7])
    return Case(model)


def _constant_model(size: int) -> Builder:
    """A meta graph holding one float constant of ``size`` bytes, the file sparse past it."""

    def build(tmp_path: Path) -> Case:
        model = tmp_path / "m"
        written = smb.write_sparse_const_model(model, size)
        stat = (model / "saved_model.pb").stat()
        if stat.st_size != written or stat.st_blocks * 512 > 2**24:
            pytest.skip("this file system does not keep sparse files sparse")
        return Case(model)

    return build


def _folded_weights(tmp_path: Path) -> Case:
    nodes = [smb.const_node("w", 1, (2**19,), b"\0" * 2**21)]
    model = tmp_path / "m"
    model.mkdir()
    data = smb.saved_model([smb.meta_graph(["serve"], smb.graph(nodes))])
    (model / "saved_model.pb").write_bytes(data)
    return Case(model)


CASES: dict[str, Builder] = {
    # -- files and parsing
    "SML001": _folder(),
    "SML002": lambda t: _variables(
        t,
        lambda v: (v / "variables.data-00000-of-00001").write_text(
            "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 9\n"
        ),
    ),
    # a meta graph field that claims 64 bytes where one follows
    "SML003": _folder(("saved_model.pb", b"\x08\x01\x12\x40\x0a")),
    "SML004": _folder(("saved_model.pb", b"saved_model_schema_version: 1\n")),
    "SML005": _folder(("saved_model.cpb", b"\x00")),
    "SML006": _pb_and_pbtxt,
    "SML007": _frozen_graph,
    # -- meta graphs and signatures
    "SML101": _folder(("saved_model.pb", b"\x08\x01")),
    "SML102": _duplicate_tags,
    "SML103": lambda t: Case(write_model(t / "m", [x()], tags=("train",))),
    "SML104": lambda t: Case(copy("module_no_signature", t)),
    "SML105": lambda t: Case(write_model(t / "m", [x()], outputs={"y": "nope:0"})),
    "SML106": lambda t: served(t, x(), call("c", "__inference_gone_1", "x")),
    "SML107": _damaged_graph,
    # -- variables
    "SML201": lambda t: _variables(t, shutil.rmtree),
    "SML202": lambda t: _variables(t, lambda v: (v / "variables.index").write_bytes(b"\x00" * 64)),
    "SML203": lambda t: _variables(
        t, lambda v: sorted(v.glob("variables.data-*"))[-1].unlink(), "variables_sharded"
    ),
    "SML204": lambda t: _variables(
        t,
        lambda v: (v / "variables.data-00000-of-00001").write_bytes(
            (v / "variables.data-00000-of-00001").read_bytes()[:-3]
        ),
    ),
    "SML205": lambda t: _variables(
        t, lambda v: _flip_last_byte(v / "variables.data-00000-of-00001")
    ),
    "SML206": _tf1_ghost_variable,
    "SML207": lambda t: _variables(
        t, lambda v: (v / "variables.data-00000-of-00002").write_bytes(b"x")
    ),
    # -- assets
    "SML301": lambda t: _variables(
        t, lambda v: (v.parent / "assets" / "vocab.txt").unlink(), "lookup_table"
    ),
    "SML302": lambda t: Case(
        write_model(
            t / "m",
            [x(), _const("p", b"../x"), node("y", "Identity", "p")],
            outputs={"y": "y:0"},
            assets=[("../secrets.txt", "p:0")],
        )
    ),
    "SML303": lambda t: Case(
        write_model(t / "m", [x(), _const("p", b"v.txt")], assets=[("v.txt", "p:0")])
    ),
    # -- fingerprint
    "SML401": lambda t: _fingerprint(t, Path.unlink),
    "SML402": lambda t: _fingerprint(t, _tamper),
    "SML403": lambda t: _fingerprint(t, lambda p: p.write_bytes(b"\x0a\xff\xff")),
    # -- TF Serving
    "SML501": lambda t: _serving(t, lambda b: shutil.copytree(b / "2", b / "002")),
    "SML502": lambda t: _serving(t, lambda b: (b / "notes.txt").write_text("x")),
    "SML503": lambda t: _serving(t, lambda b: (b / "3").mkdir()),
    "SML504": _bad_warmup,
    # -- ops
    "SML601": lambda t: served(t, x(), node("r", "ReadFile", "x")),
    "SML602": lambda t: served(
        t, x(), node("w", "WriteFile", "x", "x"), node("y", "Identity", "x")
    ),
    "SML603": lambda t: served(t, x(), node("py", "EagerPyFunc", "x")),
    "SML604": lambda t: served(
        t,
        x(),
        node(
            "d",
            "DebugIdentity",
            "x",
            debug_urls=pb.AttrValue(list=pb.AttrValue.ListValue(s=[b"file:///tmp/dump"])),
        ),
    ),
    "SML605": lambda t: served(t, x(), node("rpc", "RpcClient", "x", "x")),
    "SML606": lambda t: served(
        t,
        x(),
        call("c", "__inference_my_checkpointing_7", "x"),
        functions=[
            function("__inference_my_checkpointing_7", [node("s", "SaveV2", "p", "p", "p")], ["p"])
        ],
    ),
    "SML607": lambda t: served(
        t,
        x(),
        _const("f", b"/etc/vocab.txt"),
        node("table", "HashTableV2"),
        node("init", "InitializeTableFromTextFileV2", "table", "f"),
        node("y", "Identity", "x", "^init"),
    ),
    "SML608": lambda t: served(
        t, x(), node("p", "PrintV2", "x", output_stream=string_attr(b"file:///tmp/log"))
    ),
    "SML609": lambda t: served(t, x(), node("c", "MyCompanyCustomOp", "x")),
    "SML610": lambda t: Case(
        served(t, x(), node("y", "Identity", "x")).path, Policy(deny_ops=frozenset({"Identity"}))
    ),
    "SML611": lambda t: Case(
        served(t, x(), node("y", "Identity", "x")).path,
        Policy(allow_ops=frozenset({"Placeholder"})),
    ),
    "SML612": lambda t: served(t, x(), node("w", "CreateSummaryFileWriter", "x", "x", "x", "x")),
    "SML613": lambda t: served(t, x(), node("b", "BoostedTreesBucketize", "x")),
    "SML614": lambda t: served(t, x(), node("g", "GenerateBoundingBoxProposals", "x")),
    # -- sizes
    "SML701": lambda t: Case(copy("module_one_signature", t), Policy(max_model_size=1)),
    "SML702": _constant_model(2**31),
    "SML703": _constant_model(3 * 2**29 + 1),
    "SML704": _folded_weights,
    # -- Keras metadata
    "SML801": _keras("lambda_expr"),
    "SML802": _keras("lambda_os_system"),
    "SML803": _opaque_lambda,
    "SML804": _keras("lambda_named"),
    "SML805": _keras("custom_layer"),
    "SML806": _unreadable_keras_metadata,
}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_is_produced(rule_id: str, tmp_path: Path) -> None:
    case = CASES[rule_id](tmp_path)
    report = check_path(case.path, policy=case.policy)
    found = [f for f in report.findings if f.rule.id == rule_id]
    assert found, (rule_id, report.findings)
    assert all(f.level == RULES[rule_id].severity for f in found) or rule_id in (
        "SML103",
        "SML104",
    )


def test_every_rule_is_declared_by_a_registered_check() -> None:
    declared = {r for c in REGISTRY for r in c.rules}
    assert declared == set(RULES)
    assert {c.family for c in REGISTRY} == {
        "files",
        "meta_graphs",
        "variables",
        "assets",
        "serving",
        "ops",
        "keras",
        "fingerprint",
        "sizes",
    }
    assert [c.stage for c in REGISTRY] == sorted(c.stage for c in REGISTRY)


def test_a_check_cannot_emit_an_undeclared_rule(tmp_path: Path) -> None:
    def bad(ctx: CheckContext, emit: Emit) -> None:
        emit("SML701", "not mine")

    rogue = Check("bad", "sizes", frozenset({"SML101"}), Stage.MODEL, 0, False, bad)
    ctx = CheckContext(
        tmp_path,
        policy=Policy(),
        registry=None,
        fast=True,
        ops_only=False,
        progress=None,  # type: ignore[arg-type]
    )
    with pytest.raises(ValueError, match="emitted SML701, which it does not declare"):
        rogue.run(ctx, Emit(ctx, rogue))


def test_docs_list_every_rule() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "check.md").read_text()
    for r in RULES.values():
        assert f"| `{r.id}` | `{r.name}` | {r.severity.label} | {r.summary} |" in docs, r.id
