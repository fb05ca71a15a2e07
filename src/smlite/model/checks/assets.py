"""Assets (SML301-SML303): every asset file a meta graph lists is under assets/.

The assets are :attr:`MetaGraph.assets` (the one reading: ``asset_file_def``,
or the TF1 ``saved_model_assets`` collection).  A missing file that some node
reads (a table initializer, any op fed the asset's tensor) breaks loading:
SML301, an error.  A missing file whose tensor nothing reads is harmless to
TensorFlow -- the loader only feeds the path -- so it is SML303, a warning: TF
Serving's own TF 2.4 test exports list such an asset and load and serve fine.
"""

from __future__ import annotations

import os
import re

from smlite.model.checks.base import CheckContext, Emit, Stage, check
from smlite.model.checks.files import escapes
from smlite.model.graph_walk import consumers
from smlite.model.rules import Where
from smlite.model.saved_model import Asset, MetaGraph

_DRIVE = re.compile(r"^[A-Za-z]:")


def _outside(name: str) -> bool:
    """An asset name with an absolute path, a drive or ``..``: it points outside assets/."""
    return os.path.isabs(name) or bool(_DRIVE.match(name)) or ".." in re.split(r"[\\/]", name)


@check("assets", "SML301", "SML302", "SML303", stage=Stage.MODEL, order=30)
def asset_files(ctx: CheckContext, emit: Emit) -> None:
    """Asset files exist under assets/ and name no file outside it."""
    sm = ctx.sm
    assert sm is not None
    assets_dir = sm.path / "assets"
    first: dict[str, tuple[MetaGraph, Asset]] = {}
    read: set[str] = set()
    for mg in sm.meta_graphs:
        graph = ctx.graph(mg)
        assets = ctx.assets(mg)
        readers = {}
        if graph is not None and assets:  # the map of every node's readers only when needed
            readers = consumers(graph, (t for a in assets for t in a.tensor_names))
        for asset in assets:
            first.setdefault(asset.filename, (mg, asset))
            # A graph that does not scan is reported as SML107; count its assets as read.
            if graph is None or any(readers[t] for t in asset.tensor_names):
                read.add(asset.filename)
    for name, (mg, asset) in first.items():
        where = Where(assets_dir / name, mg.index, mg.tags, detail=f"asset[{name}]")
        if _outside(name):
            emit("SML302", f"asset file name {name!r} points outside assets/", where)
            continue
        path = assets_dir / name
        if path.is_symlink() and escapes(path, sm.path) is not None:
            continue  # reported by the file walk
        if path.is_file():
            continue
        missing = f"asset {name!r} (fed to {asset.tensor_name!r}) is missing: no file assets/{name}"
        if name in read:
            emit("SML301", missing, where)
        else:
            emit(
                "SML303",
                f"{missing}; no node of the graph reads that tensor, so TensorFlow loads and "
                "serves the model without it",
                where,
            )
