"""Execute a signature with TensorFlow — the only module of smlite that imports it.

TensorFlow is an optional extra (``pip install 'smlite[run]'``); it is
imported lazily, when a signature is actually run.  Two ways of running are
offered:

* ``session`` — what ``saved_model_cli run`` does: a TF1 ``Session`` loads the
  meta graph with the SavedModel loader and fetches the signature's output
  tensors.  Works for TF1 models (several tag-sets, assets, ``main_op``) and
  for most TF2 exports; the reference for output text.
* ``function`` — ``tf.saved_model.load`` and a call of the restored signature
  function: the TF2 way, which also runs exports the session loader cannot
  restore (e.g. a keras 3 model saved with ``tf.saved_model.save``).

``auto`` picks ``function`` for models with an object graph (TF2 exports)
and ``session`` otherwise; when ``tf.saved_model.load`` cannot load a TF2
export (an optimizer of an older Keras revived without its class, say),
:func:`smlite.run.execute` runs it the way ``saved_model_cli`` does instead,
so smlite never fails where ``saved_model_cli run`` works.

TensorFlow's C++ and Python logging is turned down (unless
``TF_CPP_MIN_LOG_LEVEL`` is already set), and anything
TensorFlow itself writes to standard output is sent to standard error, so
that standard output carries only smlite's results.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np

from smlite.errors import SmliteError
from smlite.model.saved_model import Signature

__all__ = [
    "BACKENDS",
    "INSTALL_HINT",
    "Backend",
    "TensorFlowError",
    "TensorFlowLoadError",
    "TensorFlowUnavailableError",
    "execute_signature",
    "import_tensorflow",
]

Backend = Literal["auto", "session", "function"]
BACKENDS: tuple[str, ...] = ("auto", "session", "function")

INSTALL_HINT = "pip install 'smlite[run]'"


class TensorFlowUnavailableError(SmliteError):
    """``smlite run`` needs TensorFlow, which cannot be imported."""


class TensorFlowError(SmliteError):
    """TensorFlow failed to load the model or to run the signature."""


class TensorFlowLoadError(TensorFlowError):
    """TensorFlow could not load the model (nothing ran); ``cause`` is TensorFlow's error."""

    def __init__(self, message: str, *, cause: str, path: Path) -> None:
        super().__init__(message, path=path)
        self.cause = cause


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send whatever is written to file descriptor 1 (C++ or Python) to descriptor 2."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no usable fd 1 (embedded interpreter): nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def import_tensorflow() -> ModuleType:
    """Import TensorFlow quietly, or raise :class:`TensorFlowUnavailableError`."""
    # Must be set before TensorFlow's C++ runtime loads; 2 hides INFO and WARNING.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as e:
        if (e.name or "").split(".")[0] == "tensorflow":
            raise TensorFlowUnavailableError(
                "smlite run executes the model with TensorFlow, which is not installed in "
                f"this environment; install it with: {INSTALL_HINT}"
            ) from e
        raise TensorFlowUnavailableError(
            f"TensorFlow is installed but does not import ({type(e).__name__}: {e}); "
            f"reinstall it with: {INSTALL_HINT}"
        ) from e
    _quiet_logging(tf)
    return tf


def _quiet_logging(tf: ModuleType) -> None:
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2") in ("0", "1"):
        return  # the user asked for TensorFlow's messages
    import logging

    tf.get_logger().setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)


def resolve_backend(backend: str, *, has_object_graph: bool) -> str:
    """``session`` or ``function`` for a requested backend (``auto`` decides by the model)."""
    if backend not in BACKENDS:
        raise SmliteError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend == "auto":
        return "function" if has_object_graph else "session"
    return backend


def _message(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return text.strip()


def _load_error(
    what: str, model_dir: Path, error: Exception, hint: str = ""
) -> TensorFlowLoadError:
    cause = f"{type(error).__name__}: {_message(error)}"
    return TensorFlowLoadError(
        f"TensorFlow could not load {what} of {model_dir}: {cause}{hint}",
        cause=cause,
        path=model_dir,
    )


def _run_session(
    tf: ModuleType,
    model_dir: Path,
    tags: Sequence[str],
    sig: Signature,
    feeds: Mapping[str, np.ndarray],
) -> dict[str, Any]:
    keys = sorted(sig.outputs)
    fetches = [sig.outputs[k].name for k in keys]
    feed_dict = {sig.inputs[k].name: v for k, v in feeds.items()}
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        try:
            tf.compat.v1.saved_model.load(sess, list(tags), str(model_dir))
        except Exception as e:
            raise _load_error(f"the meta graph {','.join(tags)!r}", model_dir, e) from e
        try:
            values = sess.run(fetches, feed_dict=feed_dict)
        except Exception as e:
            raise TensorFlowError(
                f"TensorFlow could not run signature {sig.key!r}: "
                f"{type(e).__name__}: {_message(e)}",
                path=model_dir,
            ) from e
    return dict(zip(keys, values, strict=True))


def _run_function(
    tf: ModuleType,
    model_dir: Path,
    tags: Sequence[str],
    sig: Signature,
    feeds: Mapping[str, np.ndarray],
) -> dict[str, Any]:
    try:
        loaded = tf.saved_model.load(str(model_dir), tags=list(tags))
        function = loaded.signatures[sig.key]
    except Exception as e:
        hint = " (try --backend session)"
        raise _load_error(f"signature {sig.key!r}", model_dir, e, hint) from e
    try:
        # The explicit dtype matters for quantized inputs (qint8 is fed as int8 values).
        args = {
            k: tf.constant(v, dtype=tf.dtypes.as_dtype(sig.inputs[k].dtype.base.value))
            for k, v in feeds.items()
        }
        outputs = function(**args)
    except Exception as e:
        raise TensorFlowError(
            f"TensorFlow could not run signature {sig.key!r}: {type(e).__name__}: {_message(e)}",
            path=model_dir,
        ) from e
    missing = sorted(set(sig.outputs) - set(outputs))
    if missing:
        raise TensorFlowError(
            f"signature {sig.key!r} returned no value for output(s) {missing}",
            path=model_dir,
        )
    return {k: outputs[k].numpy() for k in sorted(sig.outputs)}


def execute_signature(
    model_dir: str | os.PathLike[str],
    tags: Sequence[str],
    sig: Signature,
    feeds: Mapping[str, np.ndarray],
    *,
    backend: str = "session",
) -> dict[str, Any]:
    """Run ``sig`` of the meta graph ``tags`` on ``feeds``; outputs by key, sorted.

    ``feeds`` must already be validated and converted
    (:func:`smlite.run.validate.validate_feeds`).  ``backend`` is ``session``
    or ``function`` (see the module docstring).  TensorFlow failures become
    :class:`TensorFlowError`.
    """
    if backend not in ("session", "function"):
        raise SmliteError(f"unknown backend {backend!r}; choose 'session' or 'function'")
    path = Path(model_dir)
    with stdout_to_stderr():
        tf = import_tensorflow()
        if backend == "session":
            return _run_session(tf, path, tags, sig, feeds)
        return _run_function(tf, path, tags, sig, feeds)
