"""The treemap of ``smlite report``: the model directory's bytes as nested rectangles.

The rectangles are laid out here with squarify's squarified-treemap algorithm
(Bruls, Huizing, van Wijk) and drawn as plain SVG by the template, so the
picture needs no script.  The tree is :func:`directory_tree`: ``saved_model.pb``
as ``smlite size`` attributes it, ``variables/`` by layer, then the other files.
Each level keeps its largest children and folds the rest into one ``N more``
box; boxes too small to see are not drawn, and the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smlite.model.size import SizePart, SizeReport, VariablesSize

__all__ = ["Box", "directory_tree", "layout_treemap"]

#: Header strip of a box that shows its children, and the gap around them (px).
_HEADER = 16
_PAD = 2
_MIN_SIDE = 3.0


@dataclass(frozen=True, slots=True)
class Box:
    """One rectangle: a part at ``depth`` (1 = a child of the root)."""

    name: str
    #: The names from the root's child down to this part, joined by `` / ``.
    path: str
    kind: str
    bytes: int
    depth: int
    x: float
    y: float
    w: float
    h: float
    #: Whether it has children drawn inside it.
    parent: bool


def _files_part(name: str, kind: str, files: Sequence[tuple[str, int]]) -> SizePart:
    children = tuple(SizePart(path, kind, size) for path, size in files if size > 0)
    return SizePart(name, kind, sum(c.bytes for c in children), children)


def _variables_part(variables: VariablesSize, files: Sequence[tuple[str, int]]) -> SizePart:
    index = [(p, n) for p, n in files if p.endswith(".index")]
    data = [(p, n) for p, n in files if not p.endswith(".index")]
    data_bytes = sum(n for _, n in data)
    children = [SizePart(p, "variables_index", n) for p, n in index]
    shown = sum(g.bytes for g in variables.groups)
    if variables.error is None and 0 < variables.bytes <= data_bytes:
        layers = [SizePart(g.prefix, "layer", g.bytes) for g in variables.groups]
        if variables.more_groups:
            more = f"{variables.more_groups} more layers"
            layers.append(SizePart(more, "more", variables.bytes - shown))
        layers.append(
            SizePart("object graph and other data", "other", data_bytes - variables.bytes)
        )
        tensors = tuple(p for p in layers if p.bytes > 0)
        children.append(SizePart("data", "variables_data", data_bytes, tensors))
    else:
        children.extend(SizePart(p, "variables_data", n) for p, n in data)
    kept = tuple(c for c in children if c.bytes > 0)
    return SizePart("variables/", "variables", sum(c.bytes for c in kept), kept)


_GROUPS = (
    ("asset", "assets/"),
    ("assets_extra", "assets.extra/"),
    ("debug_info", "debug info"),
    ("fingerprint", "fingerprint.pb"),
    ("other", "other files"),
)


def directory_tree(report: SizeReport) -> SizePart:
    """Every file of the model directory in one tree whose parts add up exactly."""
    by_kind: dict[str, list[tuple[str, int]]] = {}
    for f in report.files:
        by_kind.setdefault(f.kind, []).append((f.path, f.bytes))
    children: list[SizePart] = []
    on_disk = sum(n for _, n in by_kind.get("saved_model", ()))
    tree = report.tree
    if report.format == "pb" and tree.bytes == on_disk:
        children.append(tree)
    else:  # a pbtxt: its text size, not the attributed binary encoding
        children.append(
            _files_part(report.file.name, "saved_model", by_kind.get("saved_model", []))
        )
    if by_kind.get("variables"):
        children.append(_variables_part(report.variables, by_kind["variables"]))
    for kind, name in _GROUPS:
        if by_kind.get(kind):
            children.append(_files_part(name, kind, by_kind[kind]))
    kept = tuple(c for c in children if c.bytes > 0)
    return SizePart("model directory", "directory", sum(c.bytes for c in kept), kept)


def _capped(children: Sequence[SizePart], keep: int) -> list[SizePart]:
    ranked = sorted((c for c in children if c.bytes > 0), key=lambda c: c.bytes, reverse=True)
    if len(ranked) <= keep:
        return ranked
    rest = ranked[keep - 1 :]
    more = SizePart(f"{len(rest)} more", "more", sum(c.bytes for c in rest))
    return [*ranked[: keep - 1], more]


def layout_treemap(
    root: SizePart,
    width: float,
    height: float,
    *,
    max_depth: int = 4,
    max_children: int = 12,
) -> tuple[list[Box], int]:
    """Boxes for ``root``'s descendants, and how many parts were too small to draw."""
    import squarify

    boxes: list[Box] = []
    hidden = 0

    def place(
        part: SizePart, path: str, depth: int, x: float, y: float, w: float, h: float
    ) -> None:
        nonlocal hidden
        children = _capped(part.children, max_children)
        if not children or w < 4 * _PAD or h < _HEADER + 2 * _PAD:
            return
        sizes = squarify.normalize_sizes([c.bytes for c in children], w, h)
        for child, rect in zip(children, squarify.squarify(sizes, x, y, w, h), strict=True):
            cx, cy, cw, ch = rect["x"], rect["y"], rect["dx"], rect["dy"]
            if cw < _MIN_SIDE or ch < _MIN_SIDE:
                hidden += 1
                continue
            child_path = f"{path} / {child.name}" if path else child.name
            nested = bool(child.children) and depth < max_depth and ch > 2 * _HEADER
            boxes.append(
                Box(child.name, child_path, child.kind, child.bytes, depth, cx, cy, cw, ch, nested)
            )
            if nested:
                place(
                    child, child_path, depth + 1,
                    cx + _PAD, cy + _HEADER, cw - 2 * _PAD, ch - _HEADER - _PAD,
                )  # fmt: skip

    place(root, "", 1, 0.0, 0.0, width, height)
    return boxes, hidden
