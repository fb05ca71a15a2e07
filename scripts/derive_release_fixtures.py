"""Derive fixtures for fingerprint behaviours no installable TensorFlow reproduces here.

TensorFlow 2.11 and older have no wheel for this Python, and the raw-bytes checksum seen on a
TF Serving 2.14 export does not arise from PyPI's 2.14 (whose Python serializer writes map
entries in another order than the C++ that hashes them).  This script edits real exports made
by ``scripts/make_release_fixtures.py`` into those shapes, computing every new hash with an
implementation independent of smlite: protobuf's pure-Python runtime (whose deterministic
serialization is the C++ one, docs/fingerprint.md) and pyfarmhash's ``fingerprint64``.

Run it with a Python that has TensorFlow's protos and pyfarmhash (the shared TF 2.21 venv)
after ``make_release_fixtures.py``::

    /work/venvs/tf-2.21/bin/python scripts/derive_release_fixtures.py

Fixtures written (``tests/fixtures/models/<name>``, facts in ``tests/fixtures/releases``):

=================================  ==============================================================
name                               derived from, and how
=================================  ==============================================================
release_2_11_keras                 release_2_12_keras, as TF 2.11 wrote it: meta_info_def says
                                   2.11.0; fingerprint.pb field 1 (2.11's graph_def_checksum) is
                                   Fingerprint64 of the GraphDef's deterministic serialization;
                                   fields 2-5 are the 2.12 export's own (2.11 computed them the
                                   same way, signatures without keys); producer 0; no uuid
release_2_14_module_file_checksum  release_2_14_module with saved_model_checksum = Fingerprint64
                                   of the saved_model.pb bytes, as on TF Serving's 2.14 export
=================================  ==============================================================
"""

from __future__ import annotations

import os

# Before protobuf is imported: the pure-Python runtime serializes deterministically as C++ does.
os.environ["PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"] = "python"

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "fixtures"


def _protos() -> tuple[Any, Any]:
    from tensorflow.core.protobuf import fingerprint_pb2, saved_model_pb2

    return saved_model_pb2, fingerprint_pb2


def _fingerprint64(data: bytes) -> int:
    import farmhash

    return int(farmhash.fingerprint64(data))


def derive_2_11(src: Path, dst: Path) -> list[str]:
    saved_model_pb2, fingerprint_pb2 = _protos()
    sm = saved_model_pb2.SavedModel.FromString((src / "saved_model.pb").read_bytes())
    meta = sm.meta_graphs[0].meta_info_def
    meta.tensorflow_version = "2.11.0"
    meta.tensorflow_git_version = "v2.11.0-derived"
    (dst / "saved_model.pb").write_bytes(sm.SerializeToString(deterministic=True))
    old = fingerprint_pb2.FingerprintDef.FromString((src / "fingerprint.pb").read_bytes())
    new = fingerprint_pb2.FingerprintDef()
    graph = sm.meta_graphs[0].graph_def.SerializeToString(deterministic=True)
    new.saved_model_checksum = _fingerprint64(graph)  # field 1: graph_def_checksum in 2.11
    new.graph_def_program_hash = old.graph_def_program_hash
    new.signature_def_hash = old.signature_def_hash
    new.saved_object_graph_hash = old.saved_object_graph_hash
    new.checkpoint_hash = old.checkpoint_hash
    new.version.SetInParent()  # producer 0: present, empty
    (dst / "fingerprint.pb").write_bytes(new.SerializeToString(deterministic=True))
    return [
        "meta_info_def.tensorflow_version 2.12.1 -> 2.11.0 (git version marked derived)",
        "fingerprint.pb field 1 = Fingerprint64(deterministic GraphDef), fields 2-5 kept, "
        "version.producer 0, no uuid",
    ]


def derive_file_checksum(src: Path, dst: Path) -> list[str]:
    _, fingerprint_pb2 = _protos()
    fp = fingerprint_pb2.FingerprintDef.FromString((src / "fingerprint.pb").read_bytes())
    fp.saved_model_checksum = _fingerprint64((dst / "saved_model.pb").read_bytes())
    (dst / "fingerprint.pb").write_bytes(fp.SerializeToString(deterministic=True))
    return ["fingerprint.pb saved_model_checksum = Fingerprint64(saved_model.pb bytes)"]


DERIVED: dict[str, tuple[str, Callable[[Path, Path], list[str]]]] = {
    "release_2_11_keras": ("release_2_12_keras", derive_2_11),
    "release_2_14_module_file_checksum": ("release_2_14_module", derive_file_checksum),
}


def _fingerprint_facts(path: Path) -> dict[str, Any]:
    _, fingerprint_pb2 = _protos()
    fp = fingerprint_pb2.FingerprintDef.FromString(path.read_bytes())
    facts: dict[str, Any] = {
        name: getattr(fp, name)
        for name in (
            "saved_model_checksum",
            "graph_def_program_hash",
            "signature_def_hash",
            "saved_object_graph_hash",
            "checkpoint_hash",
        )
    }
    facts["version_producer"] = fp.version.producer
    facts["uuid"] = fp.uuid
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for name, (source, derive) in DERIVED.items():
        src = args.out / "models" / source
        dst = args.out / "models" / name
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst)
        edits = derive(src, dst)
        record = json.loads((args.out / "releases" / f"{source}.json").read_text())
        record.update(
            name=name,
            derived_from=source,
            edits=edits,
            fingerprint=_fingerprint_facts(dst / "fingerprint.pb"),
        )
        if name == "release_2_11_keras":
            record["tf_version"] = "2.11.0"
            record["tf_git_version"] = "v2.11.0-derived"
        path = args.out / "releases" / f"{name}.json"
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"{name}: derived from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
