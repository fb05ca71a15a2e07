"""smlite.render.run: saved_model_cli run's text, and the run JSON document."""

from __future__ import annotations

import json

import ml_dtypes
import numpy as np

from smlite.model.dtypes import dtype
from smlite.render.json_doc import dumps
from smlite.render.run import output_json, result_text, run_document, run_text, saved_text


def test_run_text_matches_saved_model_cli() -> None:
    # Recorded from saved_model_cli run (tests/fixtures/expected/tf1_multi_tag.json).
    outputs = {
        "scores": np.array([[0.07585818, 0.9241418], [0.11920291, 0.880797]], dtype=np.float32),
        "classes": np.array([[b"pos", b"neg"], [b"pos", b"neg"]], dtype=object),
    }
    assert run_text(outputs) == (
        "Result for output key classes:\n"
        "[[b'pos' b'neg']\n"
        " [b'pos' b'neg']]\n"
        "Result for output key scores:\n"
        "[[0.07585818 0.9241418 ]\n"
        " [0.11920291 0.880797  ]]\n"
    )


def test_run_text_with_saved_files_and_scalars() -> None:
    text = run_text({"y": np.float32(3.5)}, {"y": "/out/y.npy"})
    assert text == "Result for output key y:\n3.5\nOutput y is saved to /out/y.npy\n"


def test_names_from_the_model_are_escaped() -> None:
    assert result_text("a\x1b[2Jb", np.int64(1)) == "Result for output key a\\x1b[2Jb:\n1\n"
    assert saved_text("k\n", "/o/k\n.npy") == "Output k\\n is saved to /o/k\\n.npy\n"


def test_output_json_numbers() -> None:
    doc = output_json(
        np.array([[1.5, np.nan], [np.inf, -np.inf]], dtype=np.float32), dtype("float32")
    )
    assert doc == {
        "dtype": {"name": "float32", "enum": "DT_FLOAT", "value": 1},
        "shape": [2, 2],
        "value": [[1.5, "nan"], ["inf", "-inf"]],
    }
    assert output_json(np.array([True, False]))["value"] == [True, False]
    assert output_json(np.array([2**63 - 1], dtype=np.int64))["value"] == [2**63 - 1]
    assert output_json(np.array([1 + 2j], dtype=np.complex64))["value"] == [[1.0, 2.0]]
    assert output_json(np.float32(0.25))["shape"] == []
    bf = output_json(np.array([1.5], dtype=ml_dtypes.bfloat16), dtype("bfloat16"))
    assert bf["value"] == [1.5] and bf["dtype"]["name"] == "bfloat16"


def test_output_json_strings() -> None:
    text = output_json(np.array([[b"a", "é".encode()]], dtype=object), dtype("string"))
    assert text["encoding"] == "utf-8" and text["value"] == [["a", "é"]]
    raw = output_json(np.array([b"\xff", b"a"], dtype=object))
    assert raw["encoding"] == "base64" and raw["value"] == ["/w==", "YQ=="]


def test_run_document_is_valid_json() -> None:
    doc = run_document(
        model_path="/m",
        tags=("serve",),
        signature_def="serving_default",
        backend="session",
        outputs={"z": np.zeros(1), "a": np.ones(1)},
        saved={"z": "/o/z.npy"},
    )
    parsed = json.loads(dumps(doc))
    assert parsed["smlite_json"] == 1 and parsed["kind"] == "run"
    assert list(parsed["outputs"]) == ["a", "z"]
    assert parsed["saved"] == {"z": "/o/z.npy"}
    assert parsed["tag_set"] == ["serve"]
