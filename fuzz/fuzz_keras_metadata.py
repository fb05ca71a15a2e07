"""Fuzz keras_metadata.pb: the entry reader, the JSON bounds, the Keras view, the findings.

The input is a ``keras_metadata.pb``; it is placed beside a fixed tf-keras SavedModel
(``tests/fixtures/keras/lambda_expr``) and read the ways smlite reads it: ``sm.keras``
(strict), the Keras findings of ``check``/``scan`` (tolerant per entry), the ``summary``
lines and the JSON member.  Mutations reach the JSON and the base64 marshal payloads
inside the entries too.

    python fuzz/fuzz_keras_metadata.py fuzz/corpus/keras_metadata -max_total_time=60
"""

from __future__ import annotations

import io
import json
import shutil

import atheris

with atheris.instrument_imports(include=["smlite"]):
    from _common import REPO, import_all, main, scratch_dir, write

    import smlite
    from smlite.model.keras import keras_model
    from smlite.model.keras_findings import keras_findings
    from smlite.model.policy import Policy
    from smlite.render.keras import keras_json, keras_renderables

    import_all()

from rich.console import Console

DIR = scratch_dir("keras_metadata")
MODEL = DIR / "model"
shutil.copytree(REPO / "tests" / "fixtures" / "keras" / "lambda_expr", MODEL)
SM = smlite.open(MODEL)
POLICY = Policy()
CONSOLE = Console(file=io.StringIO(), width=200, color_system=None, markup=False)


def test_one_input(data: bytes) -> None:
    write(MODEL / "keras_metadata.pb", data)
    for finding in keras_findings(SM, POLICY):
        str(finding.message)
    try:
        model = keras_model(SM)
    except smlite.SmliteError:
        model = None
    if model is not None:
        for layer in model.layers:
            for fn in layer.functions:
                if fn.code is not None:
                    fn.code.all_names  # noqa: B018
                    fn.code.strings  # noqa: B018
    SM.__dict__.pop("keras", None)  # the cached view: read the new file again
    json.dumps(keras_json(SM), allow_nan=False)
    SM.__dict__.pop("keras", None)
    CONSOLE.print(*keras_renderables(SM))
    SM.__dict__.pop("keras", None)


if __name__ == "__main__":
    main(test_one_input)
