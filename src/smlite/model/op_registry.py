"""The ops (and their kernels) a TensorFlow runtime knows: a snapshot of TF 2.21's, or a file.

An op that is not registered needs a custom op library at serving time; a
registered op with no kernel cannot run at all, and one whose kernels are all
for other devices cannot run on a CPU.  ``smlite`` ships two snapshots taken
from ``tensorflow-cpu==2.21.0`` by ``scripts/make_op_list.py``:

* ``data/tf_ops_2.21.txt``: every registered op name, one per line;
* ``data/tf_kernels_2.21.txt``: the same ops grouped under the device types
  that have a kernel for them.

Both use the format :meth:`OpRegistry.from_file` reads (``--ops-from``)::

    # comment                   lines starting with '#' and blank lines are ignored
    MyOp                        an op name (its kernels unknown, until a group starts)
    [CPU GPU]                   the ops below have kernels for exactly these device types
    Conv2D
    []                          the ops below have no kernel at all
    BoostedTreesBucketize

A file without any ``[...]`` line says nothing about kernels, and kernels are
then not checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from smlite.errors import Reason, SmliteError

__all__ = ["CPU_DEVICE_TYPES", "REWRITTEN_OPS", "OpRegistry"]

#: Device types whose kernels run on a CPU: ``DEFAULT`` kernels are registered for
#: every device; ``XLA_CPU_JIT`` ones run inside functions XLA compiles for the CPU.
CPU_DEVICE_TYPES = frozenset({"CPU", "DEFAULT", "XLA_CPU_JIT"})

#: Ops without a kernel that TensorFlow replaces before a graph runs, so they never
#: need one: AccumulateNV2 (``AccumulateNV2RemovePass`` in TF 2.21's graph
#: optimization passes, registered in ``libtensorflow_framework``).
REWRITTEN_OPS = frozenset({"AccumulateNV2"})

_OPS_FILE = "tf_ops_2.21.txt"
_KERNELS_FILE = "tf_kernels_2.21.txt"


@dataclass(frozen=True, slots=True)
class OpRegistry:
    """Op names a runtime knows and, when known, the device types of their kernels."""

    names: frozenset[str]
    #: Where the names come from (``TensorFlow 2.21.0 registered ops``, a file path).
    source: str
    #: Op -> device types with a kernel for it; None when the source says nothing
    #: about kernels.  An op missing from a known mapping has unknown kernels.
    kernels: Mapping[str, frozenset[str]] | None = None
    #: Where the kernels come from (``TensorFlow 2.21.0 (tensorflow-cpu)``).
    kernel_source: str = ""

    def __contains__(self, op: object) -> bool:
        return op in self.names

    def __reduce__(self) -> tuple[Any, ...]:
        # ``kernels`` is read-only (MappingProxyType), which does not pickle; a registry
        # travels to fleet workers as a plain dict and is made read-only again there.
        kernels = None if self.kernels is None else dict(self.kernels)
        return (_registry_from, (self.names, self.source, kernels, self.kernel_source))

    def kernel_devices(self, op: str) -> frozenset[str] | None:
        """Device types with a kernel for ``op``; None when the registry does not know."""
        return None if self.kernels is None else self.kernels.get(op)

    @classmethod
    def default(cls) -> OpRegistry:
        """TensorFlow 2.21's registered ops and their kernels (shipped with smlite)."""
        global _DEFAULT
        if _DEFAULT is None:
            ops_text = _data(_OPS_FILE)
            names, _ = _parse(ops_text)
            _, kernels = _parse(_data(_KERNELS_FILE))
            _DEFAULT = cls(names, _header(ops_text) or _OPS_FILE, kernels, "TensorFlow 2.21.0")
        return _DEFAULT

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> OpRegistry:
        """An op list in the format described in the module docstring (``--ops-from``)."""
        p = Path(os.fspath(path))
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise SmliteError(
                f"{p}: cannot read the op list: {e.strerror or e}",
                path=p,
                reason=Reason.UNREADABLE,
            ) from e
        except UnicodeDecodeError as e:
            raise SmliteError(f"{p}: the op list must be UTF-8 text ({e})", path=p) from e
        names, kernels = _parse(text)
        return cls(names, str(p), kernels, str(p) if kernels is not None else "")


_DEFAULT: OpRegistry | None = None


def _registry_from(
    names: frozenset[str],
    source: str,
    kernels: dict[str, frozenset[str]] | None,
    kernel_source: str,
) -> OpRegistry:
    return OpRegistry(
        names, source, None if kernels is None else MappingProxyType(kernels), kernel_source
    )


def _data(name: str) -> str:
    return resources.files("smlite").joinpath("data", name).read_text(encoding="utf-8")


def _header(text: str) -> str:
    return text.split("\n", 1)[0].lstrip("# ").split(":")[0]


def _lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def _parse(text: str) -> tuple[frozenset[str], Mapping[str, frozenset[str]] | None]:
    """Op names, and op -> kernel device types when the text has ``[...]`` groups."""
    names: set[str] = set()
    kernels: dict[str, frozenset[str]] = {}
    devices: frozenset[str] | None = None
    grouped = False
    for line in _lines(text):
        if line.startswith("[") and line.endswith("]"):
            devices = frozenset(line[1:-1].split())
            grouped = True
            continue
        names.add(line)
        if devices is not None:
            kernels[line] = devices
    return frozenset(names), MappingProxyType(kernels) if grouped else None
