"""The diff part of the policy: ``[tool.smlite.diff]`` in ``pyproject.toml``.

Example (every key optional)::

    [tool.smlite.diff]
    # Another severity for some change kinds (breaking, compatible or info).
    severity = { output-added = "breaking", tag-set-removed = "breaking" }
    # Signatures whose changes are not reported (glob patterns on the key).
    ignore-signatures = ["debug_*"]
    # What makes `smlite diff` exit 1 when --fail-on is not given.
    fail-on = "breaking"

The table is kept whole by :class:`smlite.model.policy.Policy` (its ``diff``
member) and read here, so that the keys of ``smlite diff`` live with it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from smlite.model.diff.kinds import KINDS, Severity
from smlite.model.diff.records import FAIL_ON
from smlite.model.policy import Policy, PolicyError

__all__ = ["DiffPolicy"]

_KEYS = ("severity", "ignore-signatures", "fail-on")


@dataclass(frozen=True, slots=True)
class DiffPolicy:
    """Severity overrides, ignored signatures and the default ``--fail-on``."""

    severity: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))
    ignore_signatures: tuple[str, ...] = ()
    fail_on: str = "breaking"

    def ignores(self, signature_key: str) -> bool:
        return any(fnmatch.fnmatchcase(signature_key, g) for g in self.ignore_signatures)

    @classmethod
    def from_policy(cls, policy: Policy) -> DiffPolicy:
        """The ``[tool.smlite.diff]`` table of ``policy`` (raises :class:`PolicyError`)."""
        where = f"{policy.source}: [tool.smlite.diff]" if policy.source else "[tool.smlite.diff]"
        try:
            return cls.from_table(policy.diff)
        except (TypeError, ValueError) as e:
            raise PolicyError(f"{where}: {e}", path=policy.source) from e

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> DiffPolicy:
        """Build from the table's keys (raises TypeError/ValueError on bad values)."""
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(_KEYS)}")
        raw = table.get("severity", {})
        if not isinstance(raw, Mapping):
            raise TypeError("severity must be a table of change-kind = level")
        severity: dict[str, Severity] = {}
        for kind, level in raw.items():
            if kind not in KINDS:
                raise ValueError(f"severity: no change kind {kind!r} (docs/diff.md lists them)")
            severity[kind] = Severity.parse(str(level))
        globs = table.get("ignore-signatures", [])
        if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            raise TypeError("ignore-signatures must be a list of strings")
        fail_on = table.get("fail-on", "breaking")
        if fail_on not in FAIL_ON:
            raise ValueError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
        return cls(MappingProxyType(severity), tuple(globs), fail_on)
