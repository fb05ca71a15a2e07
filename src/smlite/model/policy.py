"""The policy ``smlite check`` enforces, read from ``[tool.smlite]`` in ``pyproject.toml``.

Example (every key optional)::

    [tool.smlite]
    required-tag-sets = ["serve"]                # missing => SML103 error
    required-signatures = ["serving_default"]    # in the 'serve' meta graph, or per tag-set:
    # required-signatures = { "serve" = ["serving_default"], "serve,gpu" = ["predict"] }
    deny-ops = ["StringToHashBucketFast"]        # SML610
    allow-ops = []                               # when given, any other op is SML611
    allowed-custom-ops = ["MyCompanyOp"]         # not reported as SML609
    allowed-keras-modules = ["my_company"]       # Keras classes/functions: no SML804/SML805
    ops-from = "serving_ops.txt"                 # op names of the serving runtime
    max-model-size = "2GiB"                      # whole directory (also: max-graph-size,
    max-variables-size = "1.5GB"                 # max-variables-size); ints are bytes
    warnings-as-errors = true                    # same as --strict
    disable = ["SML401", "serving-ignored-entry"]
    severity = { custom-op = "error", SML606 = "note" }

The policy of a model is the ``[tool.smlite]`` table of the nearest
``pyproject.toml`` above the model directory that has one (the search stops at
a repository root, a directory holding ``.git``), or of the file given with
``--config`` (a ``pyproject.toml`` or a TOML file holding the keys at top level).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from smlite.errors import SmliteError
from smlite.formats.storage import AnyPath, RemotePath
from smlite.model.rules import Finding, Rule, Severity, rule
from smlite.model.saved_model import parse_tag_set

__all__ = ["Policy", "PolicyError", "find_policy", "load_policy", "parse_size"]

_KEYS = frozenset(
    {
        "required-tag-sets",
        "required-signatures",
        "deny-ops",
        "allow-ops",
        "allowed-custom-ops",
        "allowed-keras-modules",
        "ops-from",
        "max-model-size",
        "max-graph-size",
        "max-variables-size",
        "warnings-as-errors",
        "disable",
        "severity",
        "diff",
    }
)
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?i?b?)?\s*", re.IGNORECASE)
_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "kib": 2**10, "ki": 2**10,
    "m": 10**6, "mb": 10**6, "mib": 2**20, "mi": 2**20,
    "g": 10**9, "gb": 10**9, "gib": 2**30, "gi": 2**30,
    "t": 10**12, "tb": 10**12, "tib": 2**40, "ti": 2**40,
}  # fmt: skip


class PolicyError(SmliteError):
    """The policy file is unreadable or has a bad value."""


def parse_size(value: int | float | str) -> int:
    """``"1.5GB"`` -> 1500000000, ``"2GiB"`` -> 2147483648, ``1024`` -> 1024."""
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"negative size: {value!r}")
        return int(value)
    m = _SIZE.fullmatch(value)
    if m is None or (m.group(2) or "").lower() not in _UNITS:
        raise ValueError(f"not a size: {value!r} (write e.g. 500MB, 2GiB or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


@dataclass(frozen=True, slots=True)
class Policy:
    """What a model must satisfy beyond the built-in checks."""

    required_tag_sets: tuple[frozenset[str], ...] = ()
    #: Tag-set -> signature keys its meta graph must have.
    required_signatures: Mapping[frozenset[str], tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    deny_ops: frozenset[str] = frozenset()
    allow_ops: frozenset[str] | None = None
    allowed_custom_ops: frozenset[str] = frozenset()
    #: Packages / modules (and their submodules) whose Keras classes and functions are trusted.
    allowed_keras_modules: frozenset[str] = frozenset()
    ops_from: Path | None = None
    max_model_size: int | None = None
    max_graph_size: int | None = None
    max_variables_size: int | None = None
    warnings_as_errors: bool = False
    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))
    #: The file this policy came from (None: built-in defaults).
    source: Path | None = None
    #: ``[tool.smlite.diff]`` as written; ``smlite.model.diff.policy`` reads and checks it.
    diff: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def enabled(self, r: Rule) -> bool:
        return r.id not in self.disabled

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only mappings (MappingProxyType) do not pickle; a policy travels to
        # fleet workers (processes, Dask) as plain dicts and is made read-only again there.
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _MAPPINGS:
            values[name] = dict(values[name])
        return (_policy_from, (values,))

    def allows_keras_module(self, module: str) -> bool:
        """True when ``module`` (or a registered package) is, or is under, an allowed one."""
        return any(module == m or module.startswith(m + ".") for m in self.allowed_keras_modules)

    def apply(self, finding: Finding) -> Finding | None:
        """The finding with the policy's severity, or None when its rule is disabled."""
        if finding.rule.id in self.disabled:
            return None
        override = self.severity.get(finding.rule.id)
        if override is None:
            return finding
        return Finding(finding.rule, finding.message, finding.where, override)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, source: Path | None = None) -> Policy:
        """Build a policy from a ``[tool.smlite]`` table (raises :class:`PolicyError`)."""
        where = f"{source}: [tool.smlite]" if source else "[tool.smlite]"
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise PolicyError(
                f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: "
                f"{', '.join(sorted(_KEYS))}",
                path=source,
            )
        try:
            return cls._from_table(table, source)
        except (TypeError, ValueError, KeyError) as e:
            raise PolicyError(f"{where}: {e}", path=source) from e

    @classmethod
    def _from_table(cls, table: Mapping[str, Any], source: Path | None) -> Policy:
        def names(key: str) -> frozenset[str]:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{key} must be a list of strings")
            return frozenset(value)

        def size(key: str) -> int | None:
            return parse_size(table[key]) if key in table else None

        tag_sets = tuple(parse_tag_set(t) for t in sorted(names("required-tag-sets")))
        raw_sigs = table.get("required-signatures", [])
        signatures: dict[frozenset[str], tuple[str, ...]] = {}
        if isinstance(raw_sigs, list):
            if raw_sigs:
                signatures[frozenset({"serve"})] = tuple(str(s) for s in raw_sigs)
        elif isinstance(raw_sigs, dict):
            for tags, keys in raw_sigs.items():
                if not isinstance(keys, list):
                    raise TypeError("required-signatures values must be lists of keys")
                signatures[parse_tag_set(tags)] = tuple(str(k) for k in keys)
        else:
            raise TypeError("required-signatures must be a list or a table")

        disabled: set[str] = set()
        for key in names("disable"):
            try:
                disabled.add(rule(key).id)
            except KeyError:
                raise ValueError(f"disable: no rule {key!r}") from None
        severity: dict[str, Severity] = {}
        raw_sev = table.get("severity", {})
        if not isinstance(raw_sev, dict):
            raise TypeError("severity must be a table of rule = level")
        for key, level in raw_sev.items():
            try:
                rid = rule(key).id
            except KeyError:
                raise ValueError(f"severity: no rule {key!r}") from None
            severity[rid] = Severity.parse(str(level))

        ops_from = None
        if "ops-from" in table:
            ops_from = Path(str(table["ops-from"]))
            if source is not None and not ops_from.is_absolute():
                ops_from = source.parent / ops_from
        warnings_as_errors = table.get("warnings-as-errors", False)
        if not isinstance(warnings_as_errors, bool):
            raise TypeError("warnings-as-errors must be true or false")
        diff = table.get("diff", {})
        if not isinstance(diff, dict):
            raise TypeError("diff must be a table ([tool.smlite.diff])")
        return cls(
            required_tag_sets=tag_sets,
            required_signatures=MappingProxyType(signatures),
            deny_ops=names("deny-ops"),
            allow_ops=names("allow-ops") if "allow-ops" in table else None,
            allowed_custom_ops=names("allowed-custom-ops"),
            allowed_keras_modules=names("allowed-keras-modules"),
            ops_from=ops_from,
            max_model_size=size("max-model-size"),
            max_graph_size=size("max-graph-size"),
            max_variables_size=size("max-variables-size"),
            warnings_as_errors=warnings_as_errors,
            disabled=frozenset(disabled),
            severity=MappingProxyType(severity),
            source=source,
            diff=MappingProxyType(dict(diff)),
        )


_MAPPINGS = ("required_signatures", "severity", "diff")


def _policy_from(values: dict[str, Any]) -> Policy:
    for name in _MAPPINGS:
        values[name] = MappingProxyType(values[name])
    return Policy(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef,unused-ignore]
        except ImportError:
            raise PolicyError(
                f"{path}: reading TOML needs Python 3.11+ (or the tomli package)", path=path
            ) from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise PolicyError(f"{path}: cannot read: {e.strerror or e}", path=path) from e
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{path}: not valid TOML: {e}", path=path) from e


def _smlite_table(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = doc.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get("smlite"), dict):
        table: Mapping[str, Any] = tool["smlite"]
        return table
    return None


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """The policy in ``path``: its ``[tool.smlite]`` table, else its top-level keys."""
    p = Path(os.fspath(path))
    doc = _read_toml(p)
    table = _smlite_table(doc)
    if table is None:
        # A pyproject.toml without [tool.smlite] holds no policy; another TOML file holds
        # the keys at top level.
        table = {} if "tool" in doc or p.name == "pyproject.toml" else doc
    return Policy.from_table(table, source=p)


def find_policy(start: str | os.PathLike[str] | AnyPath) -> Policy:
    """The policy of the nearest ``pyproject.toml`` with ``[tool.smlite]`` above ``start``.

    A model behind a URL has no folders above it to search: the built-in
    defaults apply unless a policy is given (``--config``).
    """
    if isinstance(start, RemotePath):
        return Policy()
    p = Path(os.path.abspath(os.fspath(start)))
    for directory in (p, *p.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            table = _smlite_table(_read_toml(candidate))
            if table is not None:
                return Policy.from_table(table, source=candidate)
        if (directory / ".git").exists():
            break
    return Policy()
