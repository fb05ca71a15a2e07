"""Write the table of op output counts that smlite uses to name loaded functions like TensorFlow.

Run with a Python that has the TensorFlow release to snapshot (the repository's is
``tensorflow-cpu==2.21.0``)::

    python scripts/make_op_outputs.py        # src/smlite/data/tf_op_outputs_<major.minor>.json
    python scripts/make_op_outputs.py --out /tmp/op_outputs.json

Why: ``saved_model_cli show --all`` orders the concrete functions of a saved function by the
names TensorFlow's loader gives them, ``__inference_<name>_<uid>``, compared as strings.  The
uid comes from a process-wide counter that also counts every tensor the loader creates while
it rebuilds the function graphs, so reproducing the order needs the number of outputs of every
node in every library function.  A MetaGraphDef's ``stripped_op_list`` has the OpDefs of the
ops reachable from the graph only; this table covers the rest.

Ops with exactly one plain output are only named (``single``); the others are described
(``ops``).  An op in neither list is not a TensorFlow 2.21 op.  File format (JSON)::

    {"tensorflow": "2.21.0",
     "single": ["Abs", "Add", ...],
     "ops": {"NoOp": [], "Unique": [1, 1], "Split": ["#num_split"],
             "IdentityN": ["*T"], "Foo": ["#N=2"], ...}}

Each output argument is ``1`` (one tensor), ``"#attr"`` (a list of ``attr`` tensors: an int
attribute, ``number_attr``) or ``"*attr"`` (one tensor per type in the ``list(type)``
attribute ``attr``, ``type_list_attr``); ``=value`` gives the attribute's default when it has
one (an int, or the length of the default type list).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def op_outputs() -> tuple[str, list[str], dict[str, list[Any]]]:
    import tensorflow as tf
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session as c_api

    buffer = c_api.TF_GetAllOpList()
    try:
        op_list = op_def_pb2.OpList.FromString(c_api.TF_GetBuffer(buffer))
    finally:
        c_api.TF_DeleteBuffer(buffer)
    table: dict[str, list[Any]] = {}
    single: list[str] = []
    for op in sorted(op_list.op, key=lambda o: o.name):
        defaults = {a.name: a for a in op.attr}
        outputs: list[Any] = []
        for arg in op.output_arg:
            if arg.number_attr:
                attr = defaults.get(arg.number_attr)
                has = attr is not None and attr.HasField("default_value")
                suffix = f"={attr.default_value.i}" if has else ""
                outputs.append(f"#{arg.number_attr}{suffix}")
            elif arg.type_list_attr:
                attr = defaults.get(arg.type_list_attr)
                has = attr is not None and attr.HasField("default_value")
                suffix = f"={len(attr.default_value.list.type)}" if has else ""
                outputs.append(f"*{arg.type_list_attr}{suffix}")
            else:
                outputs.append(1)
        if outputs == [1]:
            single.append(op.name)
        else:
            table[op.name] = outputs
    return tf.__version__, single, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="output file (default: src/smlite/data/...)")
    args = parser.parse_args(argv)
    version, single, table = op_outputs()
    major_minor = ".".join(version.split(".")[:2])
    out = args.out or ROOT / "src" / "smlite" / "data" / f"tf_op_outputs_{major_minor}.json"
    lines = [
        f'{{"tensorflow": {json.dumps(version)},',
        f' "single": {json.dumps(single)},',
        ' "ops": {',
    ]
    items = [f"  {json.dumps(name)}: {json.dumps(spec)}" for name, spec in table.items()]
    lines.append(",\n".join(items))
    lines.append(" }}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(single) + len(table)} ops of TensorFlow {version} to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
