"""Audit many SavedModels at once, on this machine or a Dask cluster.

>>> import smlite.fleet
>>> for result in smlite.fleet.audit(["models/"], jobs=2):      # doctest: +SKIP
...     print(result.target.path, result.status)

>>> from dask.distributed import Client                          # doctest: +SKIP
>>> with Client("tcp://scheduler:8786") as client:               # doctest: +SKIP
...     results = list(smlite.fleet.audit(["s3://registry/models"], client=client))

See :mod:`smlite.model.fleet` for what each function does.
"""

from __future__ import annotations

from smlite.model.fleet import (
    COMMANDS,
    AuditOptions,
    ModelResult,
    Target,
    audit,
    audit_one,
    audit_targets,
    discover,
)

__all__ = [
    "COMMANDS",
    "AuditOptions",
    "ModelResult",
    "Target",
    "audit",
    "audit_one",
    "audit_targets",
    "discover",
]
