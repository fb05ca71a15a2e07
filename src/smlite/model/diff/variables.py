"""Variables compared by checkpoint key, their values decided from the index alone.

Every tensor's entry in ``variables.index`` stores its size and the CRC32C
of its bytes.  Equal size and checksum mean equal values (a collision has
odds of 2**-32 per changed variable); different ones mean new values.  So
without ``values=True`` no variable data is read.  With it, the variables
whose checksums differ are read from both sides (zero-copy views of the
memory-mapped shards, as stored: their checksums are not verified again) and
measured (:func:`smlite.model.diff.values.value_stats`).
"""

from __future__ import annotations

from collections.abc import Callable

from smlite.model.diff.recorder import Recorder, location
from smlite.model.diff.records import ValueStats
from smlite.model.diff.values import value_stats
from smlite.model.tensors import TensorShape
from smlite.model.variables import Variable, VariableSet

__all__ = ["compare_variables"]

Digest = tuple[tuple[str, int, int | None], ...]


def _digest(vs: VariableSet, var: Variable) -> Digest:
    """Size and stored CRC32C of the variable's bytes (of each slice when partitioned)."""
    if not var.partitions:
        return (("", var.nbytes, var.crc),)
    bundle = vs.bundle
    parts = []
    for slc in var.entry.slices:
        sub = bundle.slice_entry(var.entry, slc)
        parts.append((str(slc), sub.size, sub.crc32c))
    return tuple(parts)


def _describe(var: Variable) -> str:
    return f"{var.tf_dtype.name} {TensorShape(var.shape)}"


def compare_variables(
    old: VariableSet,
    new: VariableSet,
    rec: Recorder,
    *,
    values: bool = False,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Keys added and removed, dtype and shape changes, values that changed."""
    same_order = old.big_endian == new.big_endian
    if not same_order and not values:
        rec.note(
            "the two variable sets are stored in different byte orders, so their checksums "
            "cannot tell whether values changed; compare them with --values"
        )
    # By checkpoint key only: a key on one side that is a variable's name on the other
    # (a TF1 checkpoint against a TF2 export) is not the same variable.
    olds, news = dict(old.items()), dict(new.items())
    for key in sorted(olds.keys() | news.keys()):
        path = location(("variables", key))
        a, b = olds.get(key), news.get(key)
        if b is None:
            assert a is not None
            rec.add(
                "variable-removed",
                path,
                f"variable {_name(a)} ({_describe(a)}) was removed",
                old=_describe(a),
            )
            continue
        if a is None:
            rec.add(
                "variable-added",
                path,
                f"variable {_name(b)} ({_describe(b)}) was added",
                new=_describe(b),
            )
            continue
        if a.tf_dtype != b.tf_dtype:
            rec.add(
                "variable-dtype-changed",
                path,
                f"variable {_name(b)} dtype {a.tf_dtype.name} became {b.tf_dtype.name}",
                old=a.tf_dtype,
                new=b.tf_dtype,
            )
        if a.shape != b.shape:
            before, after = TensorShape(a.shape), TensorShape(b.shape)
            rec.add(
                "variable-shape-changed",
                path,
                f"variable {_name(b)} shape {before} became {after}",
                old=before,
                new=after,
            )
        if a.tf_dtype != b.tf_dtype or a.shape != b.shape:
            continue
        digest_a, digest_b = _digest(old, a), _digest(new, b)
        if same_order and digest_a == digest_b:
            continue
        stats: ValueStats | None = None
        if values:
            stats = _measure(old, new, key)
            if progress is not None:
                progress(a.nbytes + b.nbytes)
            if stats is not None and stats.changed == 0:
                continue  # only the byte order or layout differed
        elif not same_order:
            continue
        rec.add(
            "variable-values-changed",
            path,
            f"variable {_name(b)} holds other values{_stats_text(stats)}",
            old=_digest_text(digest_a),
            new=_digest_text(digest_b),
            values=stats,
        )


def _digest_text(digest: Digest) -> str:
    if len(digest) == 1 and not digest[0][0]:
        _, size, crc = digest[0]
        return f"{size} bytes, crc32c {crc:#010x}" if crc is not None else f"{size} bytes"
    return f"{len(digest)} slices, {sum(size for _, size, _ in digest)} bytes"


def _name(var: Variable) -> str:
    return repr(var.object_path or var.key)


def _measure(old: VariableSet, new: VariableSet, key: str) -> ValueStats | None:
    """Value statistics, or None for dtypes smlite cannot read (variants, resources)."""
    a = old[key]
    if a.dtype.kind == "O" and a.tf_dtype.numpy is None:
        return None
    # The stored checksums already differ (that is why the values are read): verifying them
    # again would cost as much as the comparison and say nothing new.  Whether the bytes are
    # the ones that were written is what `smlite check` and `variables --verify` answer.
    return value_stats(old.read(key, verify=False), new.read(key, verify=False))


def _stats_text(stats: ValueStats | None) -> str:
    if stats is None:
        return ""
    parts = [f"{stats.changed:,} of {stats.elements:,} elements changed"]
    if stats.max_abs_diff is not None:
        parts.append(f"max |diff| {stats.max_abs_diff:.6g}")
    if stats.relative_l2 is not None:
        parts.append(f"relative L2 change {stats.relative_l2:.6g}")
    return " (" + ", ".join(parts) + ")"
