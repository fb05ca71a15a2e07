"""What the three input flags of ``smlite run`` share, and how none of them runs anything.

``saved_model_cli run`` takes inputs in three flags; smlite accepts the same
spellings, each read by a module of its own:

* ``--inputs 'x=a.npy;y=b.npz[name]'`` -- arrays from ``.npy``/``.npz``
  files (:mod:`smlite.run.input_files`);
* ``--input_exprs 'x=[[1.0, 2.0]];y=np.ones((2, 3), dtype="int32")'`` --
  expressions (:mod:`smlite.run.input_exprs`);
* ``--input_examples`` -- serialized ``tf.train.Example`` protos
  (:mod:`smlite.run.examples`).

saved_model_cli passed expressions to ``eval`` in older releases
(CVE-2021-41228, CVE-2022-29216) and still loads files with
``allow_pickle=True``.  Here an expression is parsed with :mod:`ast` and the
tree is walked: only Python literals, a few numpy constants and calls of an
explicit list of numpy constructors with literal arguments are accepted, and
those are built by smlite itself, after their size is checked.  No name is
looked up, no attribute is read, no code runs.  Files are read with
``allow_pickle=False`` unless the caller opts in, and an array header is
checked against the real size of its data before anything is allocated.

This module holds what the three share: the ``key=value;...`` splitting and
:class:`InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smlite.errors import SmliteError

__all__ = ["InputError", "refuse_repeated_keys", "split_assignments"]


class InputError(SmliteError):
    """A ``--inputs``/``--input_exprs``/``--input_examples`` value smlite refuses."""


def split_assignments(text: str, flag: str) -> list[tuple[str, str]]:
    """Split ``'k1=v1;k2=v2'`` into ``(key, value)`` pairs, as saved_model_cli splits them.

    Parts are separated by ``;`` (a ``;`` inside a value therefore cannot be
    given, as with saved_model_cli); empty parts are skipped; each part is cut
    at its first ``=``.  Keys are stripped of surrounding spaces.

    >>> split_assignments("x=[1, 2]; y = 3", "--input_exprs")
    [('x', '[1, 2]'), ('y', ' 3')]
    """
    pairs = []
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(
                f"{flag} {part!r} is not of the form '<input_key>=<value>' "
                "(separate several inputs with ';')"
            )
        pairs.append((key, value))
    return pairs


def refuse_repeated_keys(pairs: Sequence[tuple[str, Any]], flag: str) -> None:
    """Raise :class:`InputError` when one flag names an input key twice."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InputError(f"{flag} gives input key {key!r} more than once")
        seen.add(key)
