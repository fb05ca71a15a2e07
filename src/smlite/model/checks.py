"""``smlite check``: every problem of a SavedModel (or a TF Serving base directory) as findings.

:func:`check_path` runs every check on one path and returns a
:class:`ModelReport`; nothing here prints or exits.  The checks, by rule id
range (see :mod:`smlite.model.rules`):

* files: the SavedModel file exists and parses; Git LFS pointers anywhere;
  text in a ``.pb``; stray ``.pbtxt``; symlinks leaving the model directory;
* meta graphs: present, distinct tag-sets, required tag-sets and signatures,
  every tensor a signature, the saver or an asset names resolves to a node;
* variables: the index reads (block CRCs), the shard files match the header,
  every entry lies inside its shard and (unless ``fast``) matches its CRC32C,
  every variable has a checkpoint value;
* assets: present under ``assets/``, no ``..``/absolute names;
* fingerprint: present where the writing release writes it, every stored hash
  what that release would have stored (:func:`smlite.model.fingerprint.fingerprint`);
* TF Serving: the version that will be served, duplicates, ignored entries,
  the warmup file's TFRecord framing;
* ops: :func:`smlite.model.scan.scan_meta_graph`;
* Keras metadata (also in ``scan``): :func:`smlite.model.keras_findings.keras_findings`;
* sizes: the policy's limits.

A model that cannot be opened still gets a report (that is the point of a
gate); only a path that does not exist raises.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from smlite import pb
from smlite.errors import (
    ChecksumError,
    CorruptFileError,
    NotASavedModelError,
    SmliteError,
    UnsupportedError,
)
from smlite.formats import bundle as bundle_format
from smlite.formats import saved_model as sm_format
from smlite.formats import tfrecord
from smlite.model import fingerprint as fingerprint_model
from smlite.model.keras_findings import keras_findings
from smlite.model.policy import Policy, find_policy
from smlite.model.rules import Finding, Severity, Where, rule
from smlite.model.saved_model import MetaGraph, SavedModel
from smlite.model.scan import OpRegistry, asset_refs, scan_meta_graph
from smlite.model.units import format_bytes

__all__ = ["ModelReport", "Progress", "check_path", "model_root_for", "WARMUP_FILE"]

#: Called with (bytes verified so far, total bytes to verify).
Progress = Callable[[int, int], None]

WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"
_MODEL_FILES = (sm_format.PB_NAME, sm_format.PBTXT_NAME, sm_format.CPB_NAME)
_LFS_MAGIC = b"version https://git-lfs.github.com/spec/"
_LFS_MAX_SIZE = 1024
_VERSION_RE = re.compile(r"[0-9]+")
_DATA_FILE_RE = re.compile(r"^variables\.data-(\d{5})-of-(\d{5})$")
_VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp", "AutoReloadVariable"})
_VARIABLES_PREFIX = "variables/variables"


@dataclass(frozen=True, slots=True)
class ModelReport:
    """The findings for one path given to ``check``."""

    #: The path as given (a model directory or a TF Serving base directory).
    path: Path
    findings: tuple[Finding, ...]
    #: The model directory checked (for a base directory: the served version's).
    model_dir: Path | None = None
    #: For a TF Serving base directory: the version it will serve.
    served_version: int | None = None
    policy: Policy = field(default_factory=Policy)
    #: Checks that could not run and why (e.g. variables without a readable index).
    skipped: tuple[str, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.level == severity)

    def failed(self, *, strict: bool = False) -> bool:
        """True when an error was found (or a warning, with ``strict`` or warnings-as-errors)."""
        floor = Severity.WARNING if strict or self.policy.warnings_as_errors else Severity.ERROR
        return any(f.level >= floor for f in self.findings)


# ---------------------------------------------------------------------------
# Entry point.
# ---------------------------------------------------------------------------


def model_root_for(path: str | os.PathLike[str]) -> Path:
    """The model directory a file of a SavedModel belongs to.

    ``m/saved_model.pb``, ``m/fingerprint.pb`` -> ``m``; ``m/variables/variables.index``
    -> ``m``; ``m/assets/sub/vocab.txt`` and ``m/assets.extra/x`` -> ``m``.
    """
    p = Path(os.fspath(path))
    parts = p.parts
    if p.name in (*_MODEL_FILES, "fingerprint.pb"):
        return p.parent
    if len(parts) >= 2 and parts[-2] == "variables":
        return p.parent.parent
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in ("assets", "assets.extra"):
            return Path(*parts[:i]) if i else Path(".")
    return p.parent


def check_path(
    path: str | os.PathLike[str],
    *,
    policy: Policy | None = None,
    registry: OpRegistry | None = None,
    fast: bool = False,
    ops_only: bool = False,
    progress: Progress | None = None,
) -> ModelReport:
    """Check the SavedModel or TF Serving base directory at ``path``.

    ``policy`` defaults to the one found above the path (:func:`find_policy`);
    ``fast`` skips the variable data checksums; ``ops_only`` runs only what
    ``smlite scan`` reports (ops and the graph they are read from).
    Raises :class:`NotASavedModelError` only when ``path`` does not exist.
    """
    p = Path(os.fspath(path))
    if not p.exists() and not p.is_symlink():
        raise NotASavedModelError(f"{p}: no such file or directory", path=p)
    if p.is_file() and p.name in _MODEL_FILES:
        p = p.parent
    policy = policy if policy is not None else find_policy(p)
    if registry is None:
        registry = (
            OpRegistry.from_file(policy.ops_from)
            if policy.ops_from is not None
            else OpRegistry.default()
        )
    checker = _Checker(p, policy, registry, fast=fast, ops_only=ops_only, progress=progress)
    served = checker.run()
    findings = tuple(f for f in (policy.apply(f) for f in checker.findings) if f is not None)
    return ModelReport(
        path=p,
        findings=findings,
        model_dir=checker.model_dir,
        served_version=served,
        policy=policy,
        skipped=tuple(checker.skipped),
    )


# ---------------------------------------------------------------------------


class _Checker:
    def __init__(
        self,
        path: Path,
        policy: Policy,
        registry: OpRegistry,
        *,
        fast: bool,
        ops_only: bool,
        progress: Progress | None,
    ) -> None:
        self.path = path
        self.policy = policy
        self.registry = registry
        self.fast = fast
        self.ops_only = ops_only
        self.progress = progress
        self.findings: list[Finding] = []
        self.skipped: list[str] = []
        self.model_dir: Path | None = None

    def add(
        self,
        rule_id: str,
        message: str,
        where: Where | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.findings.append(Finding(rule(rule_id), message, where or Where(), severity))

    # -- layout --------------------------------------------------------------------------
    def run(self) -> int | None:
        p = self.path
        if not p.is_dir():
            self.add("SML001", f"{p} is not a directory holding a SavedModel", Where(p))
            return None
        if any((p / name).is_file() for name in _MODEL_FILES):
            self.check_model(p)
            return None
        versions = self.serving_versions(p)
        if versions is None:
            self.add(
                "SML001",
                f"no {sm_format.PB_NAME} or {sm_format.PBTXT_NAME} in {p}, and no numbered "
                "version folders",
                Where(p / sm_format.PB_NAME),
            )
            return None
        return versions

    def serving_versions(self, base: Path) -> int | None:
        numbered: dict[int, list[Path]] = {}
        ignored: list[str] = []
        for entry in sorted(os.scandir(base), key=lambda e: e.name):
            if entry.is_dir() and _VERSION_RE.fullmatch(entry.name) and int(entry.name) < 2**63:
                numbered.setdefault(int(entry.name), []).append(Path(entry.path))
            else:
                ignored.append(entry.name)
        if not numbered:
            return None
        if self.ops_only:
            served = max(numbered)
            self.check_model(numbered[served][0])
            return served
        for name in ignored:
            self.add(
                "SML502",
                f"{name!r} is not a version folder (not a number); TF Serving ignores it",
                Where(base / name),
            )
        for version, dirs in sorted(numbered.items()):
            if len(dirs) > 1:
                names = ", ".join(d.name for d in dirs)
                self.add(
                    "SML501",
                    f"folders {names} all are version {version}; which one TF Serving "
                    "loads is undefined",
                    Where(dirs[-1]),
                )
        served = max(numbered)
        served_dir = numbered[served][0]
        if not any((served_dir / name).is_file() for name in _MODEL_FILES):
            self.add(
                "SML503",
                f"TF Serving will serve version {served} ({served_dir.name}/), which holds no "
                f"{sm_format.PB_NAME}: loading fails (an export still being copied?)",
                Where(served_dir / sm_format.PB_NAME),
            )
            return served
        before = len(self.findings)
        self.check_model(served_dir)
        if any(f.level == Severity.ERROR for f in self.findings[before:]):
            self.add(
                "SML503",
                f"TF Serving will serve version {served} ({served_dir.name}/), which has "
                "errors (listed above)",
                Where(served_dir),
            )
        return served

    # -- one model -------------------------------------------------------------------------
    def check_model(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        if not self.ops_only:
            self.check_files(model_dir)
        sm = self.open_model(model_dir)
        if sm is None:
            return
        with sm:
            if not self.ops_only:
                self.check_meta_graphs(sm)
            for mg in sm.meta_graphs:
                self.findings.extend(
                    scan_meta_graph(sm, mg, policy=self.policy, registry=self.registry)
                )
            self.findings.extend(keras_findings(sm, self.policy))
            if self.ops_only:
                return
            for mg in sm.meta_graphs:
                self.check_references(sm, mg)
            self.check_assets(sm)
            self.check_variables(sm)
            self.check_fingerprint(sm)
            self.check_sizes(sm)
        self.check_warmup(model_dir)

    def check_files(self, model_dir: Path) -> None:
        real_root = os.path.realpath(model_dir)
        for path in _walk(model_dir):
            if path.is_symlink():
                target = os.path.realpath(path)
                if os.path.commonpath([real_root, target]) != real_root:
                    self.add(
                        "SML302",
                        f"{path.relative_to(model_dir).as_posix()} is a symlink to {target}, "
                        "outside the model directory",
                        Where(path),
                    )
                    continue
            try:
                if path.is_file() and path.stat().st_size < _LFS_MAX_SIZE:
                    with open(path, "rb") as f:
                        head = f.read(len(_LFS_MAGIC))
                    if head == _LFS_MAGIC:
                        self.add(
                            "SML002",
                            f"{path.relative_to(model_dir).as_posix()} is a Git LFS pointer, "
                            "not the file itself; install git-lfs and run `git lfs pull`",
                            Where(path),
                        )
            except OSError:
                continue
        if (model_dir / sm_format.PB_NAME).is_file() and (
            model_dir / sm_format.PBTXT_NAME
        ).is_file():
            self.add(
                "SML006",
                f"both {sm_format.PB_NAME} and {sm_format.PBTXT_NAME} exist; loaders read "
                f"{sm_format.PB_NAME} and ignore the other",
                Where(model_dir / sm_format.PBTXT_NAME),
            )

    def open_model(self, model_dir: Path) -> SavedModel | None:
        pb_path = model_dir / sm_format.PB_NAME
        try:
            return SavedModel.open(model_dir)
        except UnsupportedError as e:
            self.add("SML005", str(e), Where(model_dir / sm_format.CPB_NAME))
        except CorruptFileError as e:
            file = Path(e.path) if e.path else pb_path
            message = str(e)
            if "Git LFS pointer" in message:
                # Already reported by the file walk.
                if not any(f.rule.id == "SML002" and f.where.file == file for f in self.findings):
                    self.add("SML002", message, Where(file))
            elif "text-format SavedModel" in message and file.name == sm_format.PB_NAME:
                self.add("SML004", message, Where(file))
            else:
                self.add("SML003", message, Where(file, offset=e.offset))
        except NotASavedModelError as e:
            self.add("SML001", str(e), Where(pb_path))
        except SmliteError as e:
            self.add("SML003", str(e), Where(Path(e.path) if e.path else pb_path))
        return None

    # -- meta graphs and signatures ------------------------------------------------------
    def check_meta_graphs(self, sm: SavedModel) -> None:
        file = sm.file
        if not sm.meta_graphs:
            self.add("SML101", "the SavedModel holds no meta graph", Where(file))
            return
        seen: dict[frozenset[str], int] = {}
        for mg in sm.meta_graphs:
            first = seen.setdefault(mg.tag_set, mg.index)
            if first != mg.index:
                self.add(
                    "SML102",
                    f"meta graphs #{first} and #{mg.index} both have tag-set "
                    f"{_tags(mg.tag_set)}; loaders always pick #{first}",
                    Where(file, mg.index, mg.tags),
                )
        serve = frozenset({"serve"})
        required = set(self.policy.required_tag_sets) | set(self.policy.required_signatures)
        for tag_set in sorted(required | {serve}, key=sorted):
            if tag_set in seen:
                continue
            is_required = tag_set in required
            available = ", ".join(_tags(t) for t in seen) or "(none)"
            self.add(
                "SML103",
                f"no meta graph has tag-set {_tags(tag_set)}"
                + (" (required by the policy)" if is_required else "")
                + f"; tag-sets present: {available}",
                Where(file),
                Severity.ERROR if is_required else None,
            )
        by_tags = {mg.tag_set: mg for mg in reversed(sm.meta_graphs)}
        wanted = dict(self.policy.required_signatures)
        for tag_set, mg in by_tags.items():
            keys = wanted.get(tag_set)
            if keys is None and tag_set == serve:
                keys = ("serving_default",)
                required_here = False
            else:
                required_here = True
            for key in keys or ():
                if key in mg.signatures:
                    continue
                callable_keys = [k for k, s in mg.signatures.items() if not s.is_internal]
                listed = ", ".join(callable_keys) or "none"
                self.add(
                    "SML104",
                    f"meta graph {_tags(tag_set)} has no signature {key!r}"
                    + (" (required by the policy)" if required_here else "")
                    + f"; its signatures: {listed}",
                    Where(file, mg.index, mg.tags, detail=f"signature_def[{key}]"),
                    Severity.ERROR if required_here else None,
                )

    def check_references(self, sm: SavedModel, mg: MetaGraph) -> None:
        file = sm.file
        if not mg.graph_size and mg.index >= 0 and not mg.signatures:
            return
        try:
            node_names = {n.name for n in mg.graph_scan.nodes}
        except CorruptFileError:
            return  # reported by the op scan as SML107

        def check(name: str, what: str, detail: str) -> None:
            if not name:
                return
            node = name.lstrip("^").split(":", 1)[0]
            if node not in node_names:
                self.add(
                    "SML105",
                    f"{what} names tensor {name!r}, but the graph has no node {node!r}",
                    Where(file, mg.index, mg.tags, detail=detail),
                )

        for key, sig in mg.signatures.items():
            for direction, infos in (("input", sig.proto.inputs), ("output", sig.proto.outputs)):
                for arg, info in sorted(infos.items()):
                    for name in _tensor_names(info):
                        check(
                            name,
                            f"signature {key!r} {direction} {arg!r}",
                            f"signature_def[{key}].{direction}s[{arg}]",
                        )
        saver = mg.header.saver_def
        for field_name in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
            check(getattr(saver, field_name), f"saver_def.{field_name}", f"saver_def.{field_name}")
        for ref in asset_refs(mg):
            check(ref.tensor_name, f"asset {ref.filename!r}", f"asset[{ref.filename}]")

    # -- assets ----------------------------------------------------------------------------
    def check_assets(self, sm: SavedModel) -> None:
        assets_dir = sm.path / "assets"
        seen: set[str] = set()
        for mg in sm.meta_graphs:
            for ref in asset_refs(mg):
                if ref.filename in seen:
                    continue
                seen.add(ref.filename)
                name = ref.filename
                where = Where(assets_dir / name, mg.index, mg.tags, detail=f"asset[{name}]")
                parts = re.split(r"[\\/]", name)
                if os.path.isabs(name) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                    self.add(
                        "SML302",
                        f"asset file name {name!r} points outside assets/",
                        where,
                    )
                    continue
                path = assets_dir / name
                if path.is_symlink():
                    target = os.path.realpath(path)
                    root = os.path.realpath(sm.path)
                    if os.path.commonpath([root, target]) != root:
                        continue  # reported by the file walk
                if not path.is_file():
                    self.add(
                        "SML301",
                        f"asset {name!r} (fed to {ref.tensor_name!r}) is missing: no file "
                        f"assets/{name}",
                        where,
                    )

    # -- variables -------------------------------------------------------------------------
    def check_variables(self, sm: SavedModel) -> None:
        variables_dir = sm.path / "variables"
        prefix = sm.path / _VARIABLES_PREFIX
        index = bundle_format.index_path(prefix)
        needed = _variable_names(sm)
        restores = (
            bool(needed)
            or any(
                n.WhichOneof("kind") == "variable"
                for mg in sm.meta_graphs
                for n in mg.object_graph_def.nodes
            )
            or _graph_has_variables(sm)
        )
        if not index.is_file():
            if restores:
                what = "is empty" if variables_dir.is_dir() else "is missing"
                self.add(
                    "SML201",
                    f"variables/ {what} (no variables/variables.index), but the model has "
                    "variables to restore",
                    Where(index),
                )
            return
        try:
            bundle = bundle_format.Bundle.open(prefix)
        except (CorruptFileError, UnsupportedError) as e:
            self.add("SML202", _strip_path(str(e), index), Where(index, offset=_offset(e)))
            return
        except SmliteError as e:
            self.add("SML202", str(e), Where(index))
            return
        with bundle:
            needed.update(_object_graph_variables(sm, bundle))
            self.check_bundle(bundle, needed)

    def check_bundle(self, bundle: bundle_format.Bundle, needed: dict[str, str]) -> None:
        index = bundle.index_path
        num_shards = bundle.num_shards
        present: dict[int, int] = {}
        stray: list[str] = []
        for dir_entry in sorted(os.scandir(index.parent), key=lambda e: e.name):
            m = _DATA_FILE_RE.match(dir_entry.name)
            if m is None:
                continue
            shard, of = int(m.group(1)), int(m.group(2))
            if of == num_shards and shard < num_shards:
                present[shard] = dir_entry.stat().st_size
            else:
                stray.append(dir_entry.name)
        for path in bundle.missing_shards():
            self.add(
                "SML203",
                f"data shard {path.name} is missing; the index declares {num_shards} shard(s) "
                f"and {len(present)} of them are present",
                Where(path),
            )
        if stray:
            self.add(
                "SML207",
                f"variables/ holds data shard(s) the index does not use: {', '.join(stray)} "
                f"(the index declares {num_shards} shard(s))",
                Where(index.parent / stray[0]),
            )
        entries = [e for e in bundle.entries.values() if not e.is_sliced]
        total = sum(e.size for e in entries if e.shard_id in present)
        done = 0
        for entry in entries:
            where = Where(
                bundle.shard_path(entry.shard_id), detail=f"entry[{entry.key}]", offset=entry.offset
            )
            if not 0 <= entry.shard_id < num_shards:
                self.add(
                    "SML203",
                    f"entry {entry.key!r} is in shard {entry.shard_id}, but the index declares "
                    f"{num_shards} shard(s)",
                    Where(index, detail=f"entry[{entry.key}]"),
                )
                continue
            size = present.get(entry.shard_id)
            if size is None:
                continue  # the missing shard is reported once
            if entry.offset < 0 or entry.size < 0 or entry.offset + entry.size > size:
                self.add(
                    "SML204",
                    f"entry {entry.key!r}: {entry.size} bytes at offset {entry.offset} lie "
                    f"outside {bundle.shard_path(entry.shard_id).name} ({size} bytes); the "
                    "shard is truncated or from another export",
                    where,
                )
                continue
            if not self.fast:
                try:
                    bundle.verify_entry(entry)
                except ChecksumError as e:
                    self.add("SML205", _strip_path(str(e), where.file), where)
                except UnsupportedError:
                    pass
                except SmliteError as e:
                    self.add("SML204", _strip_path(str(e), where.file), where)
                done += entry.size
                if self.progress is not None:
                    self.progress(done, total)
        keys = set(bundle.entries)
        for key, what in sorted(needed.items()):
            if key not in keys:
                self.add(
                    "SML206",
                    f"{what} has no value in the checkpoint (key {key!r} is not in "
                    "variables/variables.index)",
                    Where(index, detail=f"entry[{key}]"),
                )

    # -- fingerprint -----------------------------------------------------------------------
    def check_fingerprint(self, sm: SavedModel) -> None:
        # The judgement is fingerprint_model.fingerprint's, shared with `smlite fingerprint`.
        fp_path = sm.path / fingerprint_model.FINGERPRINT_FILENAME
        try:
            fp = fingerprint_model.fingerprint(sm, compute_all=False)
        except SmliteError as e:
            if e.path == str(fp_path):
                self.add("SML403", _strip_path(str(e), fp_path), Where(fp_path))
            else:
                self.skipped.append(f"fingerprint not recomputed: {e}")
            return
        if fp.status == "absent":
            if fp.expected:
                self.add("SML401", fp.reason, Where(fp_path))
            elif fp.expected is None:
                self.skipped.append(fp.reason)
        elif fp.status == "not-comparable":
            self.skipped.append(f"fingerprint not recomputed: {fp.reason}")
        for name, message in fp.mismatch_messages():
            self.add("SML402", message, Where(fp_path, detail=name))

    # -- sizes -----------------------------------------------------------------------------
    def check_sizes(self, sm: SavedModel) -> None:
        from smlite.model.size import size_findings, size_report

        try:
            self.findings.extend(size_findings(size_report(sm, top=1)))
        except SmliteError as e:
            self.skipped.append(f"sizes not attributed: {e}")
        policy = self.policy
        if policy.max_model_size is not None:
            total = sum(
                p.stat().st_size for p in _walk(sm.path) if p.is_file() and not p.is_symlink()
            )
            if total > policy.max_model_size:
                self.add(
                    "SML701",
                    f"the model directory holds {_size(total)}, over the policy's "
                    f"max-model-size of {_size(policy.max_model_size)}",
                    Where(sm.path),
                )
        if policy.max_graph_size is not None:
            size = sm.file.stat().st_size
            if size > policy.max_graph_size:
                self.add(
                    "SML701",
                    f"{sm.file.name} is {_size(size)}, over the policy's max-graph-size of "
                    f"{_size(policy.max_graph_size)}",
                    Where(sm.file),
                )
        if policy.max_variables_size is not None:
            variables = sm.path / "variables"
            size = (
                sum(p.stat().st_size for p in _walk(variables) if p.is_file())
                if (variables.is_dir())
                else 0
            )
            if size > policy.max_variables_size:
                self.add(
                    "SML701",
                    f"variables/ holds {_size(size)}, over the policy's max-variables-size of "
                    f"{_size(policy.max_variables_size)}",
                    Where(variables),
                )

    # -- TF Serving warmup -----------------------------------------------------------------
    def check_warmup(self, model_dir: Path) -> None:
        path = model_dir / WARMUP_FILE
        if not path.is_file():
            return
        try:
            tfrecord.count_records(path)
        except CorruptFileError as e:
            self.add("SML504", _strip_path(str(e), path), Where(path, offset=e.offset))
        except SmliteError as e:
            self.add("SML504", str(e), Where(path))


# ---------------------------------------------------------------------------
# Helpers.
# ---------------------------------------------------------------------------

def _tags(tags: Iterable[str]) -> str:
    return "'" + ",".join(sorted(tags)) + "'"


def _size(n: int) -> str:
    return format_bytes(n, exact=True)


def _offset(e: Exception) -> int | None:
    return getattr(e, "offset", None)


def _strip_path(message: str, path: Path | None) -> str:
    """A message without the ``<path>: `` prefix CorruptFileError adds (findings name the file)."""
    if path is not None:
        for prefix in (f"{path}: ", f"{path} at offset "):
            if message.startswith(prefix):
                rest = message[len(prefix) :]
                if prefix.endswith("offset "):
                    rest = "at offset " + rest
                return rest
    return message


def _walk(root: Path) -> Iterator[Path]:
    """Every file, directory and symlink under ``root`` (symlinks not followed)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in sorted(dirnames):
            p = base / name
            if p.is_symlink():
                yield p
        for name in sorted(filenames):
            yield base / name


def _tensor_names(info: pb.TensorInfo) -> Iterator[str]:
    kind = info.WhichOneof("encoding")
    if kind == "name":
        yield info.name
    elif kind == "coo_sparse":
        c = info.coo_sparse
        yield from (c.values_tensor_name, c.indices_tensor_name, c.dense_shape_tensor_name)
    elif kind == "composite_tensor":
        for component in info.composite_tensor.components:
            yield from _tensor_names(component)


def _graph_has_variables(sm: SavedModel) -> bool:
    for mg in sm.meta_graphs:
        if not mg.header.saver_def.restore_op_name:
            continue
        try:
            if any(n.op in _VARIABLE_OPS for n in mg.graph_scan.nodes):
                return True
        except CorruptFileError:
            continue
    return False


def _variable_names(sm: SavedModel) -> dict[str, str]:
    """Checkpoint keys the model's variables need -> a description for messages.

    TF2: the object graph's variables, matched to the checkpoint's object graph
    (stored under ``_CHECKPOINTABLE_OBJECT_GRAPH``) by walking both from the root
    by child name, as TensorFlow's loader does.  TF1: the ``variables``
    collection's VariableDefs (``w:0`` -> key ``w``; partitioned ones under
    their full name).
    """
    wanted: dict[str, str] = {}
    for mg in sm.meta_graphs:
        if mg.has_object_graph:
            continue
        collection = mg.header.collection_def.get("variables")
        if collection is None or collection.WhichOneof("kind") != "bytes_list":
            continue
        for raw in collection.bytes_list.value:
            try:
                var = pb.VariableDef.FromString(raw)
            except pb.DecodeError:
                continue
            name = var.variable_name.split(":", 1)[0]
            if var.HasField("save_slice_info_def") and var.save_slice_info_def.full_name:
                name = var.save_slice_info_def.full_name
            wanted.setdefault(name, f"variable {name!r} (TF1 variables collection)")
    return wanted


def object_graph_keys(
    saved: pb.SavedObjectGraph, trackable: pb.TrackableObjectGraph
) -> dict[int, tuple[str, str]]:
    """For every variable node of ``saved``: (path, checkpoint key or "" if it has none)."""
    result: dict[int, tuple[str, str]] = {}
    if not saved.nodes or not trackable.nodes:
        return result
    pending: list[tuple[int, int, str]] = [(0, 0, "")]
    seen: set[int] = set()
    while pending:
        s_id, t_id, path = pending.pop()
        if s_id in seen:
            continue
        seen.add(s_id)
        s_node = saved.nodes[s_id]
        t_node = trackable.nodes[t_id] if 0 <= t_id < len(trackable.nodes) else None
        if s_node.WhichOneof("kind") == "variable":
            key = ""
            if t_node is not None:
                for attr in t_node.attributes:
                    if attr.name == "VARIABLE_VALUE":
                        key = attr.checkpoint_key
            result[s_id] = (path or s_node.variable.name, key)
        t_children = {c.local_name: c.node_id for c in t_node.children} if t_node else {}
        for child in s_node.children:
            if 0 <= child.node_id < len(saved.nodes):
                pending.append(
                    (
                        child.node_id,
                        t_children.get(child.local_name, -1),
                        f"{path}.{child.local_name}" if path else child.local_name,
                    )
                )
    return result


def _object_graph_variables(sm: SavedModel, bundle: bundle_format.Bundle) -> dict[str, str]:
    wanted: dict[str, str] = {}
    entry = bundle.entries.get(bundle_format.OBJECT_GRAPH_KEY)
    for mg in sm.meta_graphs:
        if not mg.has_object_graph:
            continue
        saved = mg.object_graph_def
        has_variables = any(n.WhichOneof("kind") == "variable" for n in saved.nodes)
        if not has_variables:
            continue
        if entry is None:
            wanted[bundle_format.OBJECT_GRAPH_KEY] = "the checkpoint's object graph"
            continue
        try:
            raw = bundle.read_strings(entry, verify=False)
            trackable = pb.TrackableObjectGraph.FromString(raw[0] if raw else b"")
        except (SmliteError, pb.DecodeError, IndexError):
            continue
        for path, key in object_graph_keys(saved, trackable).values():
            if key:
                wanted[key] = f"variable {path!r}"
            else:
                wanted[f"<{path}>"] = f"variable {path!r} (not in the checkpoint's object graph)"
    return wanted
