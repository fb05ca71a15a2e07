"""Derive a SavedModel that ``tf.saved_model.load`` cannot load but TensorFlow's Session loader can.

Real case (issue 12, item 6): a Keras model exported by TF 2.3.1 keeps its optimizer in the object
graph, with slot variables.  TensorFlow 2.21, without that Keras, revives the optimizer as a plain
``_UserObject``, and ``tf.saved_model.load`` fails re-creating the slots:
``'_UserObject' object has no attribute 'add_slot'``.  ``saved_model_cli run`` loads the meta
graph with a Session and never reads the object graph, so it runs the model.

TensorFlow 2.3 does not install on this Python, so this script exports a small ``tf.Module`` with
TensorFlow 2.21 (``y = x @ w``) and edits its object graph the way such an export looks: a child
``optimizer`` of the root, a generic user object whose ``slot_variables`` give ``w`` a slot ``m``
held by a new variable node.  The graph, the signatures and the checkpoint are untouched, and the
fingerprint is rewritten for the edited file.  Run with a Python that has ``tensorflow-cpu``::

    python scripts/make_run_fallback_fixture.py     # -> tests/fixtures/derived/optimizer_slots
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "derived" / "optimizer_slots"


def export(out: Path) -> None:
    import tensorflow as tf

    class Linear(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            # Exactly representable values: any CPU computes the same outputs.
            self.w = tf.Variable([[1.5], [-2.0]], name="w")

        @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32, name="x")])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"y": tf.matmul(x, self.w)}

    module = Linear()
    tf.saved_model.save(module, str(out), signatures={"serving_default": module.serve})


def add_optimizer_with_slots(out: Path) -> None:
    from tensorflow.core.protobuf import saved_model_pb2, saved_object_graph_pb2

    path = out / "saved_model.pb"
    sm = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    graph = sm.meta_graphs[0].object_graph_def
    root = graph.nodes[0]
    w_id = next(child.node_id for child in root.children if child.local_name == "w")
    w = graph.nodes[w_id].variable

    optimizer_id = len(graph.nodes)
    slot_id = optimizer_id + 1
    optimizer = graph.nodes.add()
    optimizer.user_object.identifier = "_generic_user_object"
    optimizer.user_object.version.producer = 1
    optimizer.user_object.version.min_consumer = 1
    optimizer.slot_variables.add(
        original_variable_node_id=w_id, slot_name="m", slot_variable_node_id=slot_id
    )
    slot = graph.nodes.add()
    slot.variable.CopyFrom(
        saved_object_graph_pb2.SavedVariable(
            dtype=w.dtype, shape=w.shape, trainable=False, name="w/m"
        )
    )
    root.children.add(node_id=optimizer_id, local_name="optimizer")
    path.write_bytes(sm.SerializeToString(deterministic=True))

    from tensorflow.python.saved_model import fingerprinting_utils

    (out / "fingerprint.pb").unlink()
    fingerprinting_utils.write_fingerprint(str(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export(args.out)
    add_optimizer_with_slots(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
