"""The rules ``smlite check`` and ``smlite scan`` apply, and the findings they produce.

Every rule has a stable id (``SML###``, never reused), a short kebab-case
name, a default severity and a description; a :class:`Finding` is one rule
violated at one place.  Ids and names are what users put in a policy to
disable a rule or change its severity, and what SARIF consumers (GitHub code
scanning) key alerts on, so they never change meaning.

Id ranges: 0xx files and parsing, 1xx meta graphs and signatures, 2xx
variables, 3xx assets, 4xx fingerprint, 5xx TF Serving layout, 6xx ops,
7xx size limits, 8xx Keras metadata (Lambda layers, custom classes).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from smlite.formats.storage import AnyPath

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "Severity",
    "Where",
    "rule",
]


class Severity(enum.IntEnum):
    """How bad a finding is; ``error`` fails ``check``, ``warning`` only with ``--strict``."""

    NOTE = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r}; choose one of {choices}") from None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    #: Why it matters and what to do about it.
    help: str

    def __repr__(self) -> str:
        return f"Rule({self.id} {self.name}, {self.severity.label})"


_E, _W, _N = Severity.ERROR, Severity.WARNING, Severity.NOTE

_RULE_LIST = (
    # -- files and parsing ------------------------------------------------------------------
    Rule(
        "SML001",
        "no-saved-model",
        _E,
        "The directory holds no SavedModel file",
        "Neither saved_model.pb nor saved_model.pbtxt exists, so nothing can load the model. "
        "Copy the complete export directory.",
    ),
    Rule(
        "SML002",
        "git-lfs-pointer",
        _E,
        "A file is a Git LFS pointer, not the real content",
        "The repository stores the file with Git LFS and the checkout has only the pointer. "
        "Install git-lfs and run `git lfs pull`.",
    ),
    Rule(
        "SML003",
        "unparsable-saved-model",
        _E,
        "The SavedModel file does not parse",
        "saved_model.pb (or .pbtxt) is truncated, damaged or not a SavedModel; "
        "TensorFlow will refuse to load it. Re-export or re-copy the model.",
    ),
    Rule(
        "SML004",
        "text-in-binary",
        _E,
        "saved_model.pb holds text, not a binary protobuf",
        "A text-format SavedModel must be named saved_model.pbtxt.",
    ),
    Rule(
        "SML005",
        "chunked-saved-model",
        _W,
        "Only a chunked saved_model.cpb is present",
        "Open-source TensorFlow loaders and smlite cannot read the chunked format; "
        "the model was not checked.",
    ),
    Rule(
        "SML006",
        "pb-and-pbtxt",
        _W,
        "Both saved_model.pb and saved_model.pbtxt exist",
        "Loaders read saved_model.pb and ignore the .pbtxt; remove the stale one.",
    ),
    Rule(
        "SML007",
        "not-a-saved-model",
        _E,
        "saved_model.pb holds a GraphDef, a MetaGraphDef or a TF-Hub module file",
        "A frozen graph, a bare MetaGraphDef or tfhub_module.pb saved under the name "
        "saved_model.pb is not a SavedModel: loaders find no meta graph in it. Export a "
        "SavedModel (tf.saved_model.save, or SavedModelBuilder in TF1).",
    ),
    # -- meta graphs and signatures ---------------------------------------------------------
    Rule(
        "SML101",
        "no-meta-graph",
        _E,
        "The SavedModel has no meta graph",
        "There is nothing to load.",
    ),
    Rule(
        "SML102",
        "duplicate-tag-set",
        _E,
        "Two meta graphs have the same tag-set",
        "Loaders pick the first meta graph whose tag-set matches; the other is unreachable.",
    ),
    Rule(
        "SML103",
        "missing-tag-set",
        _W,
        "A tag-set is missing (by default: 'serve')",
        "TF Serving and most tools load the 'serve' tag-set. A policy can require tag-sets "
        "(required-tag-sets), which makes this an error.",
    ),
    Rule(
        "SML104",
        "missing-signature",
        _W,
        "A signature is missing (by default: serving_default in 'serve')",
        "TF Serving's default requests use 'serving_default'. A tf.Module saved without "
        "signatures is a valid export; a policy can require signatures "
        "(required-signatures), which makes this an error.",
    ),
    Rule(
        "SML105",
        "unresolved-tensor",
        _E,
        "A tensor name does not resolve to a graph node",
        "A signature, the saver or an asset names a tensor whose node is not in the graph: "
        "the model fails when that entry point is used.",
    ),
    Rule(
        "SML106",
        "missing-function",
        _E,
        "A node refers to a function the library lacks",
        "Calling the node fails at load or run time.",
    ),
    Rule(
        "SML107",
        "unparsable-graph",
        _E,
        "The GraphDef of a meta graph is damaged",
        "The graph bytes do not parse; the model cannot be loaded.",
    ),
    # -- variables --------------------------------------------------------------------------
    Rule(
        "SML201",
        "missing-variables",
        _E,
        "The variables/ checkpoint is missing or empty while the graph restores variables",
        "The model cannot restore its weights. Copy variables/variables.index and every "
        "variables.data-* shard.",
    ),
    Rule(
        "SML202",
        "variables-index-corrupt",
        _E,
        "variables/variables.index is damaged",
        "A block checksum or the table structure is wrong; TensorFlow refuses to restore.",
    ),
    Rule(
        "SML203",
        "variables-shard-mismatch",
        _E,
        "The data shards present do not match the index header",
        "The index expects a number of variables.data-*-of-N shards that are not all there "
        "(a half-copied export), or shards of another export are mixed in.",
    ),
    Rule(
        "SML204",
        "variables-entry-out-of-bounds",
        _E,
        "A tensor's bytes lie outside its data shard",
        "The shard is truncated or belongs to another export.",
    ),
    Rule(
        "SML205",
        "variables-checksum-mismatch",
        _E,
        "A tensor's data checksum is wrong",
        "The bytes of the variable changed after export (damage, partial copy, tampering).",
    ),
    Rule(
        "SML206",
        "variable-without-value",
        _E,
        "A variable of the object graph has no value in the checkpoint",
        "Restoring the model fails or leaves the variable uninitialized.",
    ),
    Rule(
        "SML207",
        "stray-variables-shard",
        _W,
        "variables/ holds data shards the index does not use",
        "Leftovers of another export; remove them.",
    ),
    # -- assets -----------------------------------------------------------------------------
    Rule(
        "SML301",
        "missing-asset",
        _E,
        "An asset file the graph needs is missing from assets/",
        "Initializers that read it (vocabularies, lookup tables) fail at load time.",
    ),
    Rule(
        "SML302",
        "asset-path-escape",
        _E,
        "An asset name or a symlink points outside the model directory",
        "Asset file names with '..' or absolute paths, and symlinks leaving the model "
        "directory, make the model read files it does not ship.",
    ),
    Rule(
        "SML303",
        "missing-unread-asset",
        _W,
        "An asset file is missing, but no node of the graph reads it",
        "The meta graph lists the asset, yet nothing consumes the tensor its path is fed "
        "to, so loading and serving work without it (TensorFlow only feeds the path). "
        "Ship the file or drop the stale asset entry.",
    ),
    # -- fingerprint ------------------------------------------------------------------------
    Rule(
        "SML401",
        "missing-fingerprint",
        _W,
        "fingerprint.pb is missing from a TF2 export whose writer writes it",
        "tf.saved_model.save writes fingerprint.pb from TF 2.11 on (decided from the writing "
        "release, meta_info_def.tensorflow_version); without it the files cannot be checked "
        "against the export and serving cannot report the model's fingerprint.",
    ),
    Rule(
        "SML402",
        "fingerprint-mismatch",
        _E,
        "A hash in fingerprint.pb differs from what the writing release would have stored",
        "The files changed after export, or files of different exports were mixed.",
    ),
    Rule("SML403", "unparsable-fingerprint", _E, "fingerprint.pb does not parse", ""),
    # -- TF Serving -------------------------------------------------------------------------
    Rule(
        "SML501",
        "serving-duplicate-version",
        _E,
        "Two version folders have the same version number",
        "TF Serving parses folder names as integers, so '1' and '001' are both version 1; "
        "which one it serves is undefined.",
    ),
    Rule(
        "SML502",
        "serving-ignored-entry",
        _N,
        "An entry of the base directory is not a version folder",
        "TF Serving ignores non-numeric folder names (for example temporary export folders).",
    ),
    Rule(
        "SML503",
        "serving-version-broken",
        _E,
        "The version TF Serving will serve is not a loadable SavedModel",
        "TF Serving serves the highest version; fix or remove it.",
    ),
    Rule(
        "SML504",
        "warmup-corrupt",
        _E,
        "assets.extra/tf_serving_warmup_requests is not a valid TFRecord file",
        "TF Serving fails to load a model whose warmup file does not read.",
    ),
    # -- ops --------------------------------------------------------------------------------
    Rule(
        "SML601",
        "file-read-op",
        _E,
        "An op reads or lists files",
        "The op reads a path given at run time or baked into the graph, so the model can read "
        "files that are not part of it.",
    ),
    Rule(
        "SML602",
        "file-write-op",
        _E,
        "An op writes, renames or deletes files",
        "A served model should not write to the file system.",
    ),
    Rule(
        "SML603",
        "python-callback-op",
        _E,
        "An op calls back into Python",
        "PyFunc-style ops run Python code registered in the exporting process: they cannot "
        "be served by TF Serving and execute arbitrary code where they do run.",
    ),
    Rule(
        "SML604",
        "debug-url-op",
        _E,
        "A debug op sends tensors to a URL or file",
        "tfdbg ops with debug_urls dump tensors to files or gRPC endpoints.",
    ),
    Rule(
        "SML605",
        "network-op",
        _E,
        "An op opens network connections",
        "RPC and tf.data service ops contact other hosts.",
    ),
    Rule(
        "SML606",
        "save-restore-outside-saver",
        _W,
        "A save/restore op outside the model's own saver",
        "The ops a SavedModel uses for its own variables are expected; anywhere else they "
        "read or write checkpoint files at paths chosen at run time.",
    ),
    Rule(
        "SML607",
        "text-file-table-init",
        _W,
        "A lookup table is initialized from a file that is not one of the model's assets",
        "InitializeTableFromTextFile reads a path; the model's own vocabularies come from assets/.",
    ),
    Rule(
        "SML608",
        "print-to-file",
        _E,
        "PrintV2 writes to a file",
        "PrintV2 with an output_stream of file://... appends to a file.",
    ),
    Rule(
        "SML609",
        "custom-op",
        _E,
        "An op is not registered in stock TensorFlow",
        "The model needs a custom op library at serving time; list the op in the policy's "
        "allowed-custom-ops when that is intended.",
    ),
    Rule("SML610", "denied-op", _E, "An op is on the policy's deny list", ""),
    Rule("SML611", "op-not-allowed", _E, "An op is not on the policy's allow list", ""),
    Rule(
        "SML612",
        "summary-writer-op",
        _W,
        "An op creates a summary writer",
        "Summary file/db writers write event files or databases to a path.",
    ),
    Rule(
        "SML613",
        "op-without-kernel",
        _E,
        "An op the model needs has no kernel in TensorFlow",
        "The op is registered, but TensorFlow 2.21 has no kernel for it on any device "
        "(kernels removed from TensorFlow, or only in TPU or custom builds). A session places "
        "every node of the graph when it first runs, and a function every node of its body, "
        "so loading or serving fails. --ops-from can name another runtime's kernels.",
    ),
    Rule(
        "SML614",
        "op-without-cpu-kernel",
        _E,
        "An op the model needs has no CPU kernel in TensorFlow",
        "TensorFlow 2.21 has kernels for the op only on other devices (GPU, TPU), so the "
        "model fails to load on a CPU-only server. When you serve on GPUs only, lower it "
        'with severity = { SML614 = "warning" }.',
    ),
    # -- sizes ------------------------------------------------------------------------------
    Rule("SML701", "size-limit", _E, "A size limit of the policy is exceeded", ""),
    Rule(
        "SML702",
        "protobuf-limit-exceeded",
        _E,
        "saved_model.pb is 2 GiB or more: over protobuf's limit for one message",
        "Protobuf refuses to parse a message of 2 GiB or more, so TensorFlow cannot load the "
        "model (and cannot save it either). Keep large weights in variables (tf.Variable), "
        "which are stored in variables/ and have no such limit; `smlite size` shows what "
        "takes the space.",
    ),
    Rule(
        "SML703",
        "near-protobuf-limit",
        _W,
        "saved_model.pb is over 1.5 GiB: close to protobuf's 2 GiB limit",
        "A little more growth and the export fails to save or load. `smlite size` shows what "
        "takes the space.",
    ),
    Rule(
        "SML704",
        "constants-in-graph",
        _N,
        "More than half of saved_model.pb are weights folded into the graph as constants",
        "Tensors captured by a tf.function (NumPy arrays, tf.constant values) or a frozen "
        "graph are stored inside saved_model.pb. As tf.Variable objects they would live in "
        "variables/: smaller graph, no 2 GiB limit, weights updatable without re-export.",
    ),
    # -- Keras metadata ---------------------------------------------------------------------
    Rule(
        "SML801",
        "keras-lambda-bytecode",
        _E,
        "A Keras Lambda layer carries Python bytecode",
        "tf-keras stores the layer's Python function as marshal bytes; load_model turns them "
        "back into a function with marshal.loads and runs it whenever the layer is called. "
        "The message lists what the code references (read without running it). Replace the "
        "Lambda with a layer class, or disable the rule for models you built yourself.",
    ),
    Rule(
        "SML802",
        "keras-lambda-dangerous-name",
        _E,
        "A Lambda layer's bytecode references a name that runs commands or loads code",
        "Names such as os, system, subprocess, eval, exec, __import__, open or getattr have "
        "no use in tensor code; they run shell commands, load or build code, reach files or "
        "the network, or reach any of these by a computed name.",
    ),
    Rule(
        "SML803",
        "keras-lambda-opaque-bytecode",
        _E,
        "A Lambda layer's bytecode could not be read",
        "smlite reads the code layouts of CPython 3.0 to 3.13 without running the code; this "
        "payload fits none (another Python release, or damage), so what it does is unknown. "
        "It is treated like a Lambda that references a dangerous name.",
    ),
    Rule(
        "SML804",
        "keras-function-by-name",
        _E,
        "A Lambda layer calls a function found by name in a module that is not Keras",
        "load_model resolves the name in that module's namespace or among registered "
        "objects: what runs depends on code outside the model. List the module in the "
        "policy's allowed-keras-modules when it is yours.",
    ),
    Rule(
        "SML805",
        "keras-custom-object",
        _W,
        "A registered custom Keras class is needed to load the model",
        "The class (Package>Name, or a module outside keras/tf_keras) must be importable and "
        "registered where the model is loaded, and its code runs then. List its package or "
        "module in the policy's allowed-keras-modules when it is yours.",
    ),
    Rule(
        "SML806",
        "keras-metadata-unreadable",
        _E,
        "The Keras metadata does not parse",
        "keras_metadata.pb (or an object's metadata in the object graph) is damaged, too "
        "large or nested too deeply; tf-keras's load_model fails on it, and the Lambda layers "
        "it may describe could not be checked.",
    ),
)

#: Every rule by id (``"SML601"``), in id order.
RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _RULE_LIST})
_BY_NAME = {r.name: r for r in _RULE_LIST}


def rule(key: str) -> Rule:
    """A rule by id (``SML601``) or name (``file-read-op``); raises KeyError."""
    found = RULES.get(key.upper()) or _BY_NAME.get(key.lower())
    if found is None:
        raise KeyError(key)
    return found


@dataclass(frozen=True, slots=True)
class Where:
    """Where a finding is: a file of the model and, inside it, a graph location."""

    #: The file, as a path the user gave plus the part inside the model (or a URL).
    file: AnyPath | None = None
    meta_graph: int | None = None
    tags: tuple[str, ...] | None = None
    function: str | None = None
    node: str | None = None
    #: Anything else that pins it down: a signature key, a checkpoint key, a field name.
    detail: str | None = None
    offset: int | None = None

    @property
    def logical(self) -> str:
        """``meta_graph[serve]/function/node`` (the parts that are set)."""
        parts: list[str] = []
        if self.meta_graph is not None:
            tags = ",".join(self.tags) if self.tags is not None else str(self.meta_graph)
            parts.append(f"meta_graph[{tags}]")
        if self.function is not None:
            parts.append(f"function[{self.function}]")
        if self.node is not None:
            parts.append(f"node[{self.node}]")
        if self.detail is not None:
            parts.append(self.detail)
        return "/".join(parts)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule violated at one place."""

    rule: Rule
    message: str
    where: Where = field(default_factory=Where)
    #: The severity after policy overrides (defaults to the rule's).
    severity: Severity | None = None

    @property
    def level(self) -> Severity:
        return self.rule.severity if self.severity is None else self.severity

    @property
    def rule_id(self) -> str:
        return self.rule.id

    def __repr__(self) -> str:
        where = self.where.logical
        return f"Finding({self.rule.id} {self.level.label}: {self.message!r} at {where!r})"
