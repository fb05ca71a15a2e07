"""Collecting changes: the severity of each kind under the diff policy, and locations."""

from __future__ import annotations

from smlite.model.diff.kinds import KINDS, Severity
from smlite.model.diff.policy import DiffPolicy
from smlite.model.diff.records import Change, Message, Value, ValueStats

__all__ = ["Recorder", "location"]


def location(*parts: tuple[str, str]) -> str:
    """``meta_graph[serve]/signature[serving_default]/input[x]`` from ``(label, name)`` pairs."""
    return "/".join(f"{label}[{name}]" for label, name in parts)


class Recorder:
    """Where the comparers put what they find; severities come from the kind and the policy."""

    def __init__(self, policy: DiffPolicy, *, variables_only: bool = False) -> None:
        self.policy = policy
        self.variables_only = variables_only
        self.changes: list[Change] = []
        self.notes: list[str] = []

    def severity(self, kind: str) -> Severity:
        override = self.policy.severity.get(kind)
        if override is not None:
            return override
        return KINDS[kind].default_severity(variables_only=self.variables_only)

    def add(
        self,
        kind: str,
        path: str,
        message: str | Message,
        *,
        old: Value | None = None,
        new: Value | None = None,
        values: ValueStats | None = None,
    ) -> None:
        parts = (message,) if isinstance(message, str) else message
        self.changes.append(Change(kind, self.severity(kind), path, parts, old, new, values))

    def note(self, text: str) -> None:
        self.notes.append(text)
