"""Export the pairs of real SavedModels ``smlite diff`` is tested against.

Run with a Python that has ``tensorflow-cpu==2.21.0`` (keras 3 comes with it)::

    python scripts/make_diff_fixtures.py                      # into tests/fixtures/diff
    python scripts/make_diff_fixtures.py --out /tmp/pairs     # anywhere else

Each model is a small export a person would make when changing a served
model; ``tests/support/diff_pairs.py`` says which two are compared and what a
person expects the comparison to say.  The models (``--out`` is wiped first):

=====================  =========================================================================
name                   what it is
=====================  =========================================================================
keras_base             keras 3 functional model: input ``features`` (None, 4) float32, outputs
                       ``{"score"}``, saved with ``tf.saved_model.save``
keras_retrained        keras_base's weights after ``fit`` on random data, exported without the
                       optimizer: the same program, new weights
keras_added_output     keras_base with a second head: outputs ``{"score", "aux"}``
keras_input_float64    keras_base with a float64 input
keras_input_rank3      keras_base with input (None, 3, 4): the rank of input and output changes
module_base            tf.Module: signatures ``serving_default`` and ``explain``, a
                       ``transform`` tf.function traced once (float32 vectors)
module_one_signature   module_base saved with ``serving_default`` only
module_retraced        module_base whose ``transform`` was also traced for int32 vectors
=====================  =========================================================================

Every model is built from fixed weights (no random initializer reaches a file)
and exported in this one process, as a training job exports one model after
another.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "diff"

tf: Any = None
np: Any = None
keras: Any = None


def _import() -> None:
    global tf, np, keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras as keras_module
    import numpy as np_module
    import tensorflow as tf_module

    tf, np, keras = tf_module, np_module, keras_module


def _fixed_weights(model: Any) -> None:
    """Weights from a formula, so that no random initializer reaches a file."""
    model.set_weights(
        [
            (((np.arange(w.size) % 5) - 2.0 + i) / 10.0).reshape(w.shape).astype(w.dtype)
            for i, w in enumerate(model.get_weights())
        ]
    )


def _keras_model(
    *, dtype: str = "float32", shape: tuple[int, ...] = (4,), aux: bool = False
) -> Any:
    features = keras.Input(shape, dtype=dtype, name="features")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(features)
    outputs = {"score": keras.layers.Dense(1, name="score")(hidden)}
    if aux:
        outputs["aux"] = keras.layers.Dense(2, name="aux")(hidden)
    model = keras.Model(features, outputs, name="ranker")
    _fixed_weights(model)
    return model


def _save(model: Any, path: Path, **kwargs: Any) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        tf.saved_model.save(model, str(path), **kwargs)


def build_keras(out: Path) -> None:
    base = _keras_model()
    _save(base, out / "keras_base")
    # Retraining: the same model object, fitted, then exported again.
    base.compile(optimizer=keras.optimizers.SGD(0.05), loss={"score": "mse"})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = rng.standard_normal((64, 1)).astype("float32")
    base.fit(x, {"score": y}, epochs=2, batch_size=16, verbose=0)
    # What goes to serving: the architecture with the trained weights, no optimizer state.
    retrained = _keras_model()
    retrained.set_weights(base.get_weights())
    _save(retrained, out / "keras_retrained")
    _save(_keras_model(aux=True), out / "keras_added_output")
    _save(_keras_model(dtype="float64"), out / "keras_input_float64")
    _save(_keras_model(shape=(3, 4)), out / "keras_input_rank3")


def _scorer() -> Any:
    class Scorer(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable([1.0, 2.0, 3.0], name="w")

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def score(self, x: Any) -> Any:
            return {"score": tf.reduce_sum(x * self.w, axis=1)}

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def explain(self, x: Any) -> Any:
            return {"contributions": x * self.w}

        @tf.function
        def transform(self, v: Any) -> Any:
            return v * 2

    module = Scorer()
    module.transform(tf.constant([1.0, 2.0]))
    return module


def build_modules(out: Path) -> None:
    module = _scorer()
    both = {"serving_default": module.score, "explain": module.explain}
    _save(module, out / "module_base", signatures=both)
    module = _scorer()
    _save(module, out / "module_one_signature", signatures={"serving_default": module.score})
    module = _scorer()
    module.transform(tf.constant([1, 2], tf.int32))
    both = {"serving_default": module.score, "explain": module.explain}
    _save(module, out / "module_retraced", signatures=both)


BUILDERS: tuple[Callable[[Path], None], ...] = (build_keras, build_modules)


def build_all(out: Path) -> None:
    """Export every model into ``out`` (created; its old content removed)."""
    _import()
    keras.utils.set_random_seed(0)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for build in BUILDERS:
        build(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    build_all(args.out)
    print(f"wrote {', '.join(sorted(p.name for p in args.out.iterdir()))} to {args.out}")


if __name__ == "__main__":
    main()
