"""``--inputs``: arrays from ``.npy``/``.npz`` files, read without unpickling.

``'x=a.npy;y=b.npz[name]'``: a file type is recognised by its first bytes;
an array header is checked against the real size of its data before anything
is allocated; arrays of Python objects and other files (pickles) are refused
unless the caller opts in (see :mod:`smlite.run.inputs`).
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from smlite.run.inputs import InputError, refuse_repeated_keys, split_assignments

__all__ = ["MAX_MEMBER_BYTES", "FileInput", "load_input_file", "parse_inputs"]

#: Largest decompressed size of one array in an ``.npz`` file (a zip bomb guard).
MAX_MEMBER_BYTES = 1 << 30


@dataclass(frozen=True, slots=True)
class FileInput:
    """One ``--inputs`` item: ``key=path`` or ``key=path[name]``."""

    key: str
    path: str
    name: str | None = None


# <filename>[<variable_name>] with neither part containing a bracket.
_FILE_WITH_NAME = re.compile(r"([^\[\]]+)\[([^\[\]]+)\]")
_FILE_ONLY = re.compile(r"[^\[\]]+")


def parse_inputs(text: str) -> dict[str, FileInput]:
    """Parse ``--inputs``: ``'<key>=<file>'`` or ``'<key>=<file>[<name>]'``, ``;``-separated.

    >>> parse_inputs("x=/tmp/a.npy;y=/tmp/b.npz[b]")["y"]
    FileInput(key='y', path='/tmp/b.npz', name='b')
    """
    pairs = split_assignments(text, "--inputs")
    refuse_repeated_keys(pairs, "--inputs")
    found: dict[str, FileInput] = {}
    for key, value in pairs:
        m = _FILE_WITH_NAME.fullmatch(value)
        if m:
            found[key] = FileInput(key, m.group(1), m.group(2))
        elif _FILE_ONLY.fullmatch(value):
            found[key] = FileInput(key, value)
        else:
            raise InputError(
                f"--inputs {key}={value!r} is not of the form '<input_key>=<filename>' or "
                "'<input_key>=<filename>[<variable_name>]'"
            )
    return found


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def _read_npy_header(fp: IO[bytes], where: str) -> tuple[tuple[int, ...], np.dtype]:
    """Read the header of an ``.npy`` stream; leaves ``fp`` at the start of the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, EOFError, SyntaxError) as e:
        raise InputError(f"{where}: not a valid .npy array: {e}") from e
    return tuple(int(d) for d in shape), dtype


def _check_array_header(
    shape: tuple[int, ...], dtype: np.dtype, available: int, where: str, allow_pickle: bool
) -> None:
    if dtype.hasobject:
        if not allow_pickle:
            raise InputError(
                f"{where}: the array holds Python objects, which numpy stores as a pickle; "
                "smlite does not unpickle input files unless --allow-pickle is given "
                "(only use it for files you trust)"
            )
        return
    count = math.prod(shape)
    if count * dtype.itemsize > available:
        raise InputError(
            f"{where}: the header declares shape {shape} of {dtype} "
            f"({count * dtype.itemsize} bytes) but only {available} bytes of data follow"
        )


def _load_npy(path: str, allow_pickle: bool) -> np.ndarray:
    with open(path, "rb") as fp:
        shape, dtype = _read_npy_header(fp, path)
        available = os.fstat(fp.fileno()).st_size - fp.tell()
        _check_array_header(shape, dtype, available, path, allow_pickle)
        fp.seek(0)
        try:
            return np.lib.format.read_array(fp, allow_pickle=allow_pickle)
        except (ValueError, OSError, EOFError) as e:
            raise InputError(f"{path}: cannot read the array: {e}") from e


def _npz_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Array name (``x`` for member ``x.npy``) to member, as ``numpy.load`` names them."""
    members = {}
    for info in zf.infolist():
        if info.is_dir():
            continue
        name = info.filename
        members[name.removesuffix(".npy")] = info
    return members


def _load_npz_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, allow_pickle: bool
) -> np.ndarray:
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(
            f"{where}: the array is {info.file_size} bytes when decompressed; smlite reads "
            f"at most {MAX_MEMBER_BYTES} bytes per array"
        )
    with zf.open(info) as fp:
        if fp.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
            raise InputError(f"{where}: the member is not a .npy array")
    with zf.open(info) as fp:
        shape, dtype = _read_npy_header(fp, where)
        _check_array_header(shape, dtype, info.file_size - fp.tell(), where, allow_pickle)
    with zf.open(info) as fp:
        try:
            return np.lib.format.read_array(fp, allow_pickle=allow_pickle)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise InputError(f"{where}: cannot read the array: {e}") from e


def _load_npz(spec: FileInput, allow_pickle: bool) -> np.ndarray:
    path = spec.path
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: not a valid .npz file: {e}") from e
    with zf:
        members = _npz_members(zf)
        if spec.name is not None:
            info = members.get(spec.name)
            if info is None:
                listed = ", ".join(repr(n) for n in members) or "(none)"
                raise InputError(
                    f"input file {path} does not contain an array named {spec.name!r}; "
                    f"it contains: {listed}"
                )
            return _load_npz_member(zf, info, f"{path}[{spec.name}]", allow_pickle)
        if len(members) != 1:
            listed = ", ".join(repr(n) for n in members) or "(none)"
            raise InputError(
                f"input file {path} contains {len(members)} arrays ({listed}); name the one "
                f"to use: {spec.key}={path}[<name>]"
            )
        ((name, info),) = members.items()
        return _load_npz_member(zf, info, f"{path}[{name}]", allow_pickle)


def _load_pickle(spec: FileInput) -> Any:
    try:
        with open(spec.path, "rb") as fp:
            data = np.load(fp, allow_pickle=True)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"{spec.path}: not a .npy, .npz or pickle file: {e}") from e
    except Exception as e:  # unpickling can raise anything; the user opted in
        raise InputError(f"{spec.path}: unpickling failed: {type(e).__name__}: {e}") from e
    if spec.name is None:
        return data
    if isinstance(data, Mapping) and spec.name in data:
        return data[spec.name]
    raise InputError(f"input file {spec.path} does not contain variable with name {spec.name!r}")


def load_input_file(
    spec: FileInput,
    *,
    allow_pickle: bool = False,
    warn: Callable[[str], None] = lambda message: None,
) -> Any:
    """Read the value of one ``--inputs`` item.

    ``.npy``: the array (a ``[name]`` is ignored, with a warning, as
    saved_model_cli does).  ``.npz``: the array called ``name``, or the only
    array.  Anything else is treated as a pickle, which is refused unless
    ``allow_pickle``; so are ``.npy`` arrays of Python objects.  The file type
    is recognised by its first bytes, not its name.
    """
    path = os.path.expanduser(spec.path)
    spec = FileInput(spec.key, path, spec.name)
    try:
        with open(path, "rb") as fp:
            magic = fp.read(len(_NPY_MAGIC))
    except OSError as e:
        raise InputError(f"--inputs {spec.key}: cannot read {path}: {e.strerror or e}") from e
    if magic.startswith(_NPY_MAGIC):
        if spec.name is not None:
            warn(f"input file {path} contains a single ndarray; name key {spec.name!r} ignored")
        return _load_npy(path, allow_pickle)
    if magic[:4] in _ZIP_MAGICS:
        return _load_npz(spec, allow_pickle)
    if not allow_pickle:
        raise InputError(
            f"{path} is neither a .npy nor a .npz file; saved_model_cli would unpickle it, "
            "which can run arbitrary code. Convert it to .npy/.npz, or pass --allow-pickle "
            "if you trust the file"
        )
    return _load_pickle(spec)
