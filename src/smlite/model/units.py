"""Byte counts and shapes as text, one convention for every command.

Bytes in binary (IEC) units: ``1536`` is ``1.5 KiB`` everywhere — in
``summary``, ``variables`` and the size limits ``check`` reports — so the same
quantity never reads as GB in one place and GiB in another.  Shapes as
``[2, ?, 3]``.  They live in the model layer because findings and labels of
the typed views carry them.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["format_bytes", "format_dims"]

_UNITS = ("KiB", "MiB", "GiB", "TiB")


def format_bytes(n: int, *, exact: bool = False, digits: int = 1) -> str:
    """``512 B``, ``1.5 KiB``, ``800.0 MiB``; with ``exact`` the byte count follows.

    ``digits`` after the decimal point (the size findings give two).

    >>> format_bytes(1536), format_bytes(1536, exact=True), format_bytes(512, exact=True)
    ('1.5 KiB', '1.5 KiB (1536 bytes)', '512 bytes')
    >>> format_bytes(3 * 2**29, exact=True, digits=2)
    '1.50 GiB (1610612736 bytes)'
    """
    if n < 1024:
        return f"{n} bytes" if exact else f"{n} B"
    value = float(n)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            break
    text = f"{value:.{digits}f} {unit}"
    return f"{text} ({n} bytes)" if exact else text


def format_dims(dims: Iterable[int | None] | None, *, unknown_rank: str = "<unknown>") -> str:
    """``[2, ?, 3]``: ``?`` for a size that is not known (None or negative), ``[]`` for a scalar.

    >>> format_dims((2, None, -1)), format_dims(()), format_dims(None, unknown_rank="[*]")
    ('[2, ?, ?]', '[]', '[*]')
    """
    if dims is None:
        return unknown_rank
    return "[" + ", ".join("?" if d is None or d < 0 else str(d) for d in dims) + "]"
