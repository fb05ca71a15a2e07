"""The kinds of change ``smlite diff`` reports, each with its default severity and the reason.

A change is judged by what the *clients of the old model* see once the new
one is deployed in its place:

* **TF Serving** clients (Predict, Classify, Regress over gRPC/REST): they
  name a signature, feed its inputs by alias and read its outputs by alias
  (``tensorflow_serving/servables/tensorflow/predict_util.cc``,
  ``classifier.cc``, ``regressor.cc``);
* **Session-API** clients (TF1 ``Session.run``, the C API): they feed and
  fetch graph tensors by name;
* **Python** clients of ``tf.saved_model.load``: they call the functions
  the root object exposes, which dispatch on the input signature of the
  saved traces;
* anyone **restoring the variables** as a checkpoint.

``breaking`` means a request or call that worked against the old model can
fail or be misread against the new one; ``compatible`` means clients can
see the change but every old request still works; ``info`` means no
serving client sees it (weights, assets, op bookkeeping).  The ``why`` of
every kind is that justification; ``docs/diff.md`` lists them.  Kind names
are stable: a policy keys severity overrides on them and SARIF uses them as
rule ids.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["AREAS", "KINDS", "ChangeKind", "Severity", "change_kind"]


class Severity(str, enum.Enum):
    """How a change affects the clients of the old model; ``breaking`` sorts first."""

    BREAKING = "breaking"
    COMPATIBLE = "compatible"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r}; choose one of {choices}") from None


_RANK = {Severity.BREAKING: 0, Severity.COMPATIBLE: 1, Severity.INFO: 2}

#: The areas changes are grouped by, in report order.
AREAS = ("meta_graph", "signature", "function", "op", "variable", "asset")


@dataclass(frozen=True, slots=True)
class ChangeKind:
    """One kind of change: a stable name, its area, default severity and why."""

    name: str
    area: str
    severity: Severity
    summary: str
    #: What the clients of the old model see, which is why the severity is what it is.
    why: str
    #: The severity in a variables-only diff (a checkpoint on either side), if different.
    checkpoint_severity: Severity | None = None

    def default_severity(self, *, variables_only: bool) -> Severity:
        if variables_only and self.checkpoint_severity is not None:
            return self.checkpoint_severity
        return self.severity


_B, _C, _I = Severity.BREAKING, Severity.COMPATIBLE, Severity.INFO

_RESTORE = (
    "Serving clients never see variables; restoring these values as a checkpoint into the "
    "other program fails or leaves variables unset, which is why a variables-only diff "
    "(a checkpoint on either side) calls it breaking."
)

_KIND_LIST = (
    # -- meta graphs ------------------------------------------------------------------------
    ChangeKind(
        "serving-tag-set-removed", "meta_graph", _B, "A tag-set with 'serve' was removed",
        "TF Serving loads the meta graph of the tag-set it is configured with ('serve' by "
        "default); without it the new version does not load at all.",
    ),
    ChangeKind(
        "tag-set-removed", "meta_graph", _I, "A tag-set without 'serve' was removed",
        "Serving never loads it; only tools that ask for this tag-set (training, "
        "conversion) notice.",
    ),
    ChangeKind(
        "tag-set-added", "meta_graph", _C, "A tag-set was added",
        "Loaders ask for a tag-set by name; those asking for an existing one never see "
        "the new meta graph.",
    ),
    ChangeKind(
        "tensorflow-version-changed", "meta_graph", _I,
        "Another TensorFlow release wrote the model",
        "Recorded in meta_info_def; a serving binary older than the writer may lack ops or "
        "attributes the new export uses (added ops are reported on their own).",
    ),
    # -- signatures -------------------------------------------------------------------------
    ChangeKind(
        "signature-removed", "signature", _B, "A signature was removed",
        "Requests naming it fail ('Serving signature key not found').",
    ),
    ChangeKind(
        "signature-added", "signature", _C, "A signature was added",
        "Every request names its signature (or serving_default); old requests never reach "
        "a new one.",
    ),
    ChangeKind(
        "internal-signature-changed", "signature", _I,
        "__saved_model_init_op or __saved_model_train_op changed",
        "They run when the model is loaded or trained; no client calls them.",
    ),
    ChangeKind(
        "method-name-changed", "signature", _B, "The method name changed so the old API refuses it",
        "A classify (regress) signature is no longer one, so Classify (Regress) requests are "
        "refused when TF Serving checks method names, or the new method is not one of the "
        "three Predict accepts under that check.",
    ),
    ChangeKind(
        "predict-method-name-changed", "signature", _C,
        "The method name changed, and Predict still serves the signature",
        "The old signature was served by Predict alone (a predict or non-standard method) "
        "and the new method is predict, classify or regress, all of which Predict runs.",
    ),
    ChangeKind(
        "input-added", "signature", _B, "A required input was added",
        "Predict rejects a request that does not feed every input of a signature without "
        "default values ('input size does not match signature'); old requests lack it.",
    ),
    ChangeKind(
        "optional-input-added", "signature", _C, "An input with a default value was added",
        "The signature gives the new input a default (SignatureDef.defaults), so requests "
        "that leave it out are still accepted.",
    ),
    ChangeKind(
        "input-removed", "signature", _B, "An input was removed",
        "Old requests still feed it, and Predict rejects a request with an input the "
        "signature does not have.",
    ),
    ChangeKind(
        "output-added", "signature", _C, "An output was added",
        "Clients read outputs by alias (and output_filter names the ones wanted); a new "
        "alias is just one more entry in the response.",
    ),
    ChangeKind(
        "output-removed", "signature", _B, "An output was removed",
        "Clients reading it get nothing, and a request naming it in output_filter fails "
        "('output tensor alias not found in signature').",
    ),
    ChangeKind(
        "input-dtype-changed", "signature", _B, "An input's dtype changed",
        "TensorFlow does not cast fed tensors: requests of the old dtype fail.",
    ),
    ChangeKind(
        "output-dtype-changed", "signature", _B, "An output's dtype changed",
        "Clients decode response tensors by dtype; the old decoding is wrong.",
    ),
    ChangeKind(
        "input-shape-widened", "signature", _C, "An input accepts more shapes",
        "Every shape the old signature accepted (a size becoming None, a known rank becoming "
        "unknown) is still accepted.",
    ),
    ChangeKind(
        "input-shape-narrowed", "signature", _B, "An input accepts fewer shapes",
        "A size that was None is now fixed (or an unknown rank became known): requests of "
        "other sizes that used to work are rejected.",
    ),
    ChangeKind(
        "input-shape-changed", "signature", _B, "An input's rank or sizes changed",
        "Neither shape contains the other (another rank, another fixed size): old requests "
        "are rejected.",
    ),
    ChangeKind(
        "output-shape-narrowed", "signature", _C, "An output's shape is more specific",
        "Outputs still have a shape the old signature allowed.",
    ),
    ChangeKind(
        "output-shape-widened", "signature", _C, "An output's shape is less specific",
        "Only the stored promise weakened (a size or the rank became unknown); responses "
        "carry the shapes the model computes, and model metadata shows the new shape.",
    ),
    ChangeKind(
        "output-shape-changed", "signature", _B, "An output's rank or sizes changed",
        "Outputs now have a rank or sizes the old signature ruled out; clients reshaping "
        "or indexing them break.",
    ),
    ChangeKind(
        "input-kind-changed", "signature", _B, "An input became sparse, ragged or dense",
        "A SparseTensor or composite is fed as several component tensors; old requests "
        "feed the wrong ones.",
    ),
    ChangeKind(
        "output-kind-changed", "signature", _B, "An output became sparse, ragged or dense",
        "Clients read a different set of component tensors.",
    ),
    ChangeKind(
        "input-spec-changed", "signature", _B, "An input composite's TypeSpec changed",
        "ragged_rank, the row-splits dtype or another field of the TypeSpec changed, so "
        "its component tensors differ.",
    ),
    ChangeKind(
        "output-spec-changed", "signature", _B, "An output composite's TypeSpec changed",
        "ragged_rank, the row-splits dtype or another field of the TypeSpec changed, so "
        "its component tensors differ.",
    ),
    ChangeKind(
        "tensor-name-changed", "signature", _I, "A signature entry names another graph tensor",
        "TF Serving feeds and fetches through the signature aliases; only Session-API "
        "clients that use graph tensor names directly notice.",
    ),
    # -- functions of the object graph -------------------------------------------------------
    ChangeKind(
        "function-removed", "function", _B, "A function of the root object was removed",
        "tf.saved_model.load users calling it get an AttributeError.",
    ),
    ChangeKind(
        "function-added", "function", _C, "A function of the root object was added",
        "A new attribute of the loaded object; nothing that worked calls it.",
    ),
    ChangeKind(
        "trace-removed", "function", _B, "A concrete function (trace) was removed",
        "Calls whose arguments matched only this input signature fail: no concrete function "
        "matches.",
    ),
    ChangeKind(
        "trace-added", "function", _C, "A concrete function (trace) was added",
        "Calls that matched an existing trace still match it.",
    ),
    ChangeKind(
        "trace-inputs-widened", "function", _C, "A trace accepts more input shapes",
        "Its input signature only relaxed sizes or ranks: every old call still matches.",
    ),
    ChangeKind(
        "trace-inputs-changed", "function", _B, "A trace's input signature changed",
        "Calls matching the old input signature (dtypes, ranks, structure) no longer match.",
    ),
    ChangeKind(
        "trace-outputs-extended", "function", _C, "A trace returns more (or more specific) outputs",
        "Outputs were added to its returned structure or their shapes changed within what "
        "the old promise allowed; code reading the old ones still works.",
    ),
    ChangeKind(
        "trace-outputs-changed", "function", _B, "A trace's output structure changed",
        "Outputs were removed or changed dtype, rank or structure: callers reading them break.",
    ),
    ChangeKind(
        "nested-function-changed", "function", _I, "A function below the root object changed",
        "Functions of sub-objects (Keras layer calls, submodules) exist so the objects can "
        "be revived; TF Serving never calls object-graph functions and clients rarely "
        "call these.",
    ),
    # -- ops ------------------------------------------------------------------------------------
    ChangeKind(
        "flagged-op-added", "op", _B, "A newly used op is a custom op or denied by the scan policy",
        "Not registered in TensorFlow 2.21 (the serving binary may lack its kernel and "
        "refuse to load the model) or flagged as an error by smlite scan under the policy.",
    ),
    ChangeKind(
        "op-added", "op", _I, "A newly used op",
        "Stock TensorFlow registers it and the scan policy does not flag it as an error.",
    ),
    ChangeKind(
        "op-removed", "op", _I, "An op is no longer used",
        "Fewer ops never stop a serving binary from loading the model.",
    ),
    # -- variables ---------------------------------------------------------------------------
    ChangeKind(
        "variable-added", "variable", _I, "A variable was added", _RESTORE, checkpoint_severity=_B
    ),
    ChangeKind(
        "variable-removed", "variable", _I, "A variable was removed", _RESTORE,
        checkpoint_severity=_B,
    ),
    ChangeKind(
        "variable-dtype-changed", "variable", _I, "A variable's dtype changed", _RESTORE,
        checkpoint_severity=_B,
    ),
    ChangeKind(
        "variable-shape-changed", "variable", _I, "A variable's shape changed", _RESTORE,
        checkpoint_severity=_B,
    ),
    ChangeKind(
        "variable-values-changed", "variable", _I, "A variable holds other values",
        "New weights change results, not the interface; the stored CRC32C and size decide "
        "it without reading the data (--values measures by how much).",
    ),
    # -- assets ----------------------------------------------------------------------------------
    ChangeKind(
        "asset-added", "asset", _I, "An asset file was added",
        "Assets (vocabularies, ...) are read by the graph when it loads; they change "
        "results like weights do, not the interface.",
    ),
    ChangeKind(
        "asset-removed", "asset", _I, "An asset file was removed",
        "Assets are read by the graph when it loads (smlite check reports an asset the "
        "graph still needs); the interface is unchanged.",
    ),
    ChangeKind(
        "asset-changed", "asset", _I, "An asset file has other content",
        "Compared by SHA-256 of the content; like new weights, it changes results, not "
        "the interface.",
    ),
)  # fmt: skip

#: Every kind by name, in report order.
KINDS: Mapping[str, ChangeKind] = MappingProxyType({k.name: k for k in _KIND_LIST})


def change_kind(name: str) -> ChangeKind:
    """The kind called ``name``; raises KeyError."""
    return KINDS[name]
