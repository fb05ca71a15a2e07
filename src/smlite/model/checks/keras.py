"""Keras metadata (SML801-SML806): Lambda bytecode and custom objects, also in ``scan``.

The judgement is :func:`smlite.model.keras_findings.keras_findings`'s.
"""

from __future__ import annotations

from smlite.model.checks.base import CheckContext, Emit, Stage, check
from smlite.model.keras_findings import keras_findings


@check("keras", *(f"SML80{n}" for n in range(1, 7)), stage=Stage.MODEL, order=15, in_scan=True)
def keras_metadata(ctx: CheckContext, emit: Emit) -> None:
    """What tf_keras.models.load_model would turn back into running code."""
    assert ctx.sm is not None
    for finding in keras_findings(ctx.sm, ctx.policy):
        emit.finding(finding)
