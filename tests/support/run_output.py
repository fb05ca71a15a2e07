"""Compare ``saved_model_cli run`` text across machines: numbers within a tolerance per dtype.

A numeric run is not bit-reproducible across CPUs (an AVX-512 machine prints ``-0.7340715``
where this one prints ``-0.73407155``), so a recorded run output is compared with what a run
prints here as text whose words must match exactly and whose numbers must match within
:data:`TOLERANCE` for the dtype of the output they belong to.  Outputs of integer, bool,
string and quantized dtypes must match exactly.  Runs compared on the same machine with the
same backend (``session`` against a live ``saved_model_cli``) need no tolerance and use ``==``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

import smlite

#: (relative, absolute) tolerance per output dtype: a few units in the last place of what
#: numpy prints for that dtype (float32: 8 significant digits), far below any real change.
TOLERANCE: dict[str, tuple[float, float]] = {
    "float16": (4e-3, 1e-4),
    "bfloat16": (3e-2, 1e-3),
    "float32": (2e-6, 1e-7),
    "complex64": (2e-6, 1e-7),
    "float64": (1e-13, 1e-15),
    "complex128": (1e-13, 1e-15),
}

_HEADER = re.compile(r"^Result for output key (.*):$", re.MULTILINE)
_TOKEN = re.compile(
    r"""b'(?:[^'\\]|\\.)*'|b"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""  # bytes and str reprs
    r"|[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?(?:nan|inf)"  # numbers
    r"|\S"  # anything else, one character at a time
)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?(?:nan|inf)")


def output_dtypes(model: Path, argv: Sequence[str]) -> dict[str, str]:
    """Output key -> dtype name of the signature a ``run`` argv names (read by smlite)."""

    def flag(*names: str) -> str | None:
        for i, arg in enumerate(argv):
            if arg in names and i + 1 < len(argv):
                return argv[i + 1]
        return None

    tags = flag("--tag_set", "--tag-set")
    key = flag("--signature_def", "--signature-def") or "serving_default"
    with smlite.open(model) as sm:
        sig = sm.meta_graph(tags).signature(key)
        return {k: info.dtype.name for k, info in sig.outputs.items()}


def _blocks(text: str) -> list[tuple[str, str]]:
    """(output key, what follows its header) for each ``Result for output key`` block."""
    headers = list(_HEADER.finditer(text))
    leading = text[: headers[0].start()] if headers else text
    assert leading == "", f"text before the first result: {leading[:200]!r}"
    ends = [h.start() for h in headers[1:]] + [len(text)]
    return [(h.group(1), text[h.end() : end]) for h, end in zip(headers, ends, strict=True)]


def assert_run_text_close(actual: str, expected: str, dtypes: Mapping[str, str]) -> None:
    """``actual`` prints what ``expected`` prints: same keys, words and lines; numbers close."""
    ours, theirs = _blocks(actual), _blocks(expected)
    assert [k for k, _ in ours] == [k for k, _ in theirs], (actual, expected)
    for (key, mine), (_, recorded) in zip(ours, theirs, strict=True):
        rtol, atol = TOLERANCE.get(dtypes[key], (0.0, 0.0))
        a, b = _TOKEN.findall(mine), _TOKEN.findall(recorded)
        assert len(a) == len(b), (key, mine, recorded)
        for x, y in zip(a, b, strict=True):
            if _NUMBER.fullmatch(x) and _NUMBER.fullmatch(y):
                assert np.isclose(float(x), float(y), rtol=rtol, atol=atol, equal_nan=True), (
                    f"output {key!r}: {x} differs from {y} by more than the {dtypes[key]} "
                    f"tolerance (rtol={rtol}, atol={atol})\n{mine}\n{recorded}"
                )
            else:
                assert x == y, (key, mine, recorded)


def assert_arrays_close(actual: np.ndarray, expected: np.ndarray) -> None:
    """Two saved outputs: same dtype and shape; values within the dtype's tolerance."""
    assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape)
    rtol, atol = TOLERANCE.get(actual.dtype.name, (0.0, 0.0))
    if rtol == atol == 0.0:
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
