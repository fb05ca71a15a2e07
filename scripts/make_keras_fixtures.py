"""Export the Keras 2 (tf-keras) SavedModels that smlite's Keras checks are tested against.

Run with a Python that has ``tensorflow-cpu==2.21.0`` and ``tf-keras==2.21.0`` (the shared
TF venv)::

    python scripts/make_keras_fixtures.py                  # into tests/fixtures/keras
    python scripts/make_keras_fixtures.py --out /tmp/kfx   # elsewhere (the TF tier does this)

Every model is saved with ``model.save(path, save_format="tf")``, which writes
``keras_metadata.pb``.  Beside each ``<name>/`` the script writes ``<name>.json``: what
tf-keras and the running Python say about the model -- its class, its layers, the training
configuration, and for every Lambda layer the facts of its function's code object
(``co_names`` of it and of nested code, arguments, string constants) read from the live
function.  The core tests compare smlite's reading of the committed files with these facts;
the TF tier regenerates the models and compares with the live functions directly.

The Lambda functions live in ``keras_fixture_helpers.py``, compiled under that bare file
name so that the stored bytecode does not depend on where the repository is checked out.

Fixtures:

    lambda_expr        Lambda from a lambda expression
    lambda_named       Lambda from a named function of a helper module, and a Lambda of the
                       builtin abs (stored by name, module builtins)
    lambda_os_system   a Lambda whose code calls os.system, inside TimeDistributed (Sequential)
    custom_layer       a layer class registered as smlite_fixtures>Scale
    compiled           a Sequential model compiled with Adam, a loss and a metric
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "keras"
HELPERS = "keras_fixture_helpers"


def load_helpers() -> types.ModuleType:
    """``keras_fixture_helpers`` compiled under its bare file name, registered in sys.modules."""
    if HELPERS in sys.modules:
        return sys.modules[HELPERS]
    path = HERE / f"{HELPERS}.py"
    module = types.ModuleType(HELPERS)
    module.__file__ = str(path)
    sys.modules[HELPERS] = module
    exec(compile(path.read_text(), f"{HELPERS}.py", "exec"), module.__dict__)
    return module


def lambda_expression() -> Callable[[Any], Any]:
    """The lambda-expression function, compiled from the helper's source text."""
    helpers = load_helpers()
    fn: Callable[[Any], Any] = eval(  # our own constant source, not model data
        compile(helpers.LAMBDA_SOURCE, "make_keras_fixtures.py", "eval"), {"__name__": "fixtures"}
    )
    return fn


def _walk(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _walk(const)


def code_facts(fn: Callable[..., Any]) -> dict[str, Any]:
    """What the interpreter says about a function's code (the reference for smlite's reading)."""
    code = fn.__code__
    codes = list(_walk(code))
    n = code.co_argcount + code.co_kwonlyargcount
    n += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)
    return {
        "name": code.co_name,
        "qualname": getattr(code, "co_qualname", None),
        "filename": code.co_filename,
        "names": sorted({name for c in codes for name in c.co_names}),
        "co_names": list(code.co_names),
        "arg_names": list(code.co_varnames[:n]),
        "strings": sorted({s for c in codes for s in c.co_consts if isinstance(s, str)}),
        "module": fn.__module__,
    }


# ---------------------------------------------------------------------------
# The models.
# ---------------------------------------------------------------------------


def build_lambda_expr(k: Any) -> tuple[Any, dict[str, Any]]:
    fn = lambda_expression()
    x = k.Input((3,), name="x")
    y = k.layers.Lambda(fn, name="lam_expr")(x)
    model = k.Model(x, k.layers.Dense(2, name="out")(y), name="lambda_expr")
    return model, {"lam_expr": code_facts(fn)}


def build_lambda_named(k: Any) -> tuple[Any, dict[str, Any]]:
    helpers = load_helpers()
    x = k.Input((3,), name="x")
    y = k.layers.Lambda(helpers.scale, name="lam_named")(x)
    y = k.layers.Lambda(abs, name="lam_builtin")(y)
    model = k.Model(x, k.layers.Dense(2, name="out")(y), name="lambda_named")
    return model, {"lam_named": code_facts(helpers.scale)}


def build_lambda_os_system(k: Any) -> tuple[Any, dict[str, Any]]:
    helpers = load_helpers()
    model = k.Sequential(
        [
            k.Input((2, 3), name="x"),
            k.layers.TimeDistributed(k.layers.Lambda(helpers.sneaky, name="lam_os"), name="td"),
            k.layers.Flatten(name="flat"),
            k.layers.Dense(1, name="out"),
        ],
        name="lambda_os_system",
    )
    return model, {"lam_os": code_facts(helpers.sneaky)}


def build_custom_layer(k: Any) -> tuple[Any, dict[str, Any]]:
    scale = load_helpers().scale_layer_class(k)
    x = k.Input((3,), name="x")
    y = scale(3.0, name="scale")(x)
    return k.Model(x, k.layers.Dense(2, name="out")(y), name="custom_layer"), {}


#: What build_compiled passes to compile() besides the optimizer.
COMPILE_ARGS = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}


def build_compiled(k: Any) -> tuple[Any, dict[str, Any]]:
    model = k.Sequential(
        [
            k.Input((4,), name="features"),
            k.layers.Dense(3, activation="relu", name="hidden"),
            k.layers.Dense(2, activation="softmax", name="probs"),
        ],
        name="compiled",
    )
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), **COMPILE_ARGS)
    return model, {}


BUILDERS: dict[str, Callable[[Any], tuple[Any, dict[str, Any]]]] = {
    "lambda_expr": build_lambda_expr,
    "lambda_named": build_lambda_named,
    "lambda_os_system": build_lambda_os_system,
    "custom_layer": build_custom_layer,
    "compiled": build_compiled,
}


def _layers(parent: Any) -> Iterator[Any]:
    """The layers of a model, and of nested models and wrappers, as tf-keras lists them."""
    children = list(getattr(parent, "layers", []))
    wrapped = getattr(parent, "layer", None)
    if wrapped is not None:
        children.append(wrapped)
    for child in children:
        yield child
        yield from _layers(child)


def _class_name(layer: Any, k: Any) -> str:
    name: str = k.saving.get_registered_name(type(layer))
    return name


def model_facts(model: Any, k: Any, lambdas: dict[str, Any]) -> dict[str, Any]:
    import tensorflow as tf

    layers = [[layer.name, _class_name(layer, k)] for layer in _layers(model)]
    training = None
    if model.optimizer is not None:
        training = {
            "optimizer": model.optimizer.name,
            "learning_rate": float(model.optimizer.learning_rate.numpy()),
            "loss": model.loss,
            "metrics": COMPILE_ARGS["metrics"],
        }
    return {
        "generated_by": "scripts/make_keras_fixtures.py",
        "tf_keras": k.__version__,
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
        "class_name": type(model).__name__,
        "name": model.name,
        "layers": sorted(layers),
        "training_config": training,
        "lambdas": lambdas,
    }


def build(out: Path, names: list[str]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tf_keras as k

    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = out / name
        shutil.rmtree(target, ignore_errors=True)
        model, lambdas = BUILDERS[name](k)
        model.save(str(target), save_format="tf")
        facts = model_facts(model, k, lambdas)
        (out / f"{name}.json").write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n")
        print(f"wrote {target}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixtures directory")
    parser.add_argument("--only", default=None, help=f"comma-separated: {', '.join(BUILDERS)}")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BUILDERS)
    unknown = sorted(set(names) - set(BUILDERS))
    if unknown:
        parser.error(f"unknown fixture(s) {', '.join(unknown)}; choose from {', '.join(BUILDERS)}")
    build(args.out.resolve(), names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
