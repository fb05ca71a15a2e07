"""Build the fuzz seed corpora from the committed fixtures (tests/fixtures).

    python fuzz/make_corpus.py            # writes fuzz/corpus/<harness>/
    python fuzz/make_corpus.py --out DIR

Seeds are named by their SHA-1, so running it again adds nothing twice.  The
corpora are not committed: they are rebuilt from the fixtures in seconds.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from _common import FIXTURES, REPO, join2  # noqa: E402
from google.protobuf.message import Message  # noqa: E402

from smlite import pb  # noqa: E402

CHECKPOINTS = REPO / "tests" / "fixtures" / "checkpoints"
KERAS = REPO / "tests" / "fixtures" / "keras"
MARSHAL = REPO / "tests" / "fixtures" / "marshal"
MAX_SEED = 64 * 1024

RUN_INPUT_SEEDS = [
    "x=[[1.0, 2.0]]",
    "x=[[1.0, 2.0]];y=np.ones((2, 3), dtype='float32')",
    "a=np.zeros(3, dtype='int32');b=np.arange(0, 10, 2)",
    "x=np.full((2, 2), 7, dtype=np.int64)",
    "x=np.linspace(0.0, 1.0, num=5)",
    "x=np.eye(3)",
    "x=np.array([[1, 2], [3, 4]], dtype='uint8')",
    "x={'a': [1, 2], 'b': (b'x', 'y', None, True, -1e300, 1+2j)}",
    "x=[np.nan, np.inf, -np.pi, np.e]",
    'inputs=[{"x": [1.0], "id": [7], "s": [b"ab", "cd"]}]',
    "inputs=[{'f': [1, 2, 3]}, {'f': [4.5]}]",
    "x=/tmp/a.npy;y=/tmp/b.npz[arr_0]",
    "x=f.npz",
]


def _children(message: Message) -> Iterator[tuple[str, Message]]:
    """(type name, message) for every sub-message, maps and repeated fields included."""
    for fd, value in message.ListFields():
        if fd.message_type is None:
            continue
        if fd.message_type.GetOptions().map_entry:
            values = [v for v in value.values() if isinstance(v, Message)]
        elif fd.is_repeated:
            values = list(value)
        else:
            values = [value]
        for v in values:
            yield v.DESCRIPTOR.name, v


def _tensor_protos(message: Message) -> Iterator[bytes]:
    """Every TensorProto inside a message (Const values, numpy_value, bounds)."""
    for name, child in _children(message):
        if name == "TensorProto":
            yield child.SerializeToString()
        yield from _tensor_protos(child)


def _structured(message: Message) -> Iterator[bytes]:
    """Every outermost StructuredValue and TypeSpecProto inside a message."""
    for name, child in _children(message):
        if name in ("StructuredValue", "TypeSpecProto"):
            yield child.SerializeToString()
        else:
            yield from _structured(child)


def _models() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def _saved_models() -> Iterator[pb.SavedModel]:
    for model in _models():
        pb_file = model / "saved_model.pb"
        if pb_file.is_file():
            yield pb.SavedModel.FromString(pb_file.read_bytes())


def seeds() -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {name: [] for name in HARNESSES}
    for model in _models():
        for f in (model / "saved_model.pb", model / "saved_model.pbtxt"):
            if f.is_file():
                out["saved_model" if f.suffix == ".pb" else "pbtxt"].append(f.read_bytes())
        index = model / "variables" / "variables.index"
        if index.is_file():
            out["sstable"].append(index.read_bytes())
            shard = model / "variables" / "variables.data-00000-of-00001"
            if shard.is_file():
                out["bundle_data"].append(join2(index.read_bytes(), shard.read_bytes()))
        fp = model / "fingerprint.pb"
        if fp.is_file():
            out["fingerprint"].append(
                join2(fp.read_bytes(), (model / "saved_model.pb").read_bytes())
            )
        warmup = model / "assets.extra" / "tf_serving_warmup_requests"
        if warmup.is_file():
            out["tfrecord_snappy"].append(warmup.read_bytes())
    ckpt_index = CHECKPOINTS / "ckpt-1.index"
    if ckpt_index.is_file():
        out["sstable"].append(ckpt_index.read_bytes())
        data = CHECKPOINTS / "ckpt-1.data-00000-of-00001"
        out["bundle_data"].append(join2(ckpt_index.read_bytes(), data.read_bytes()))
    for sm in _saved_models():
        out["tensor_proto"].extend(_tensor_protos(sm))
        out["structured_value"].extend(_structured(sm))
    out["run_inputs"].extend(s.encode() for s in RUN_INPUT_SEEDS)
    for meta in sorted([*KERAS.glob("*/keras_metadata.pb"), *FIXTURES.glob("*/keras_metadata.pb")]):
        out["keras_metadata"].append(meta.read_bytes())
    for doc in sorted(MARSHAL.glob("cpython-*.json")):
        for case in json.loads(doc.read_text())["cases"]:
            out["marshal"].append(base64.b64decode(case["payload"]))
    # Snappy: a literal-only block, and one with a 1-byte-offset copy.
    out["tfrecord_snappy"].append(b"\x05\x10hello")
    out["tfrecord_snappy"].append(b"\x08\x0cabc\x11\x03")
    return out


HARNESSES = (
    "saved_model",
    "pbtxt",
    "sstable",
    "bundle_data",
    "fingerprint",
    "tensor_proto",
    "structured_value",
    "run_inputs",
    "tfrecord_snappy",
    "keras_metadata",
    "marshal",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "corpus")
    args = parser.parse_args()
    for name, items in seeds().items():
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        written = 0
        for data in items:
            if len(data) > MAX_SEED and name not in ("saved_model", "fingerprint", "pbtxt"):
                continue
            target = folder / hashlib.sha1(data).hexdigest()
            if not target.exists():
                target.write_bytes(data)
                written += 1
        print(f"{name}: {len(items)} seeds ({written} new) in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
