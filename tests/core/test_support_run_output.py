"""tests/support/run_output.py: run outputs compared across CPUs, numbers within a tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import samcli
from tests.support.run_output import assert_arrays_close, assert_run_text_close, output_dtypes

# What an AVX-512 machine printed for the recorded keras_multi_export and tf1_multi_tag runs.
RECORDED = (
    "Result for output key h:\n[[-0.73407155 -0.06241874  0.3583574  -0.46211714]]\n"
    "Result for output key y:\n[[-0.0704826   0.34633866]]\n"
)
AVX512 = (
    "Result for output key h:\n[[-0.7340715  -0.06241874  0.3583574  -0.46211714]]\n"
    "Result for output key y:\n[[-0.0704826   0.34633866]]\n"
)
FLOATS = {"h": "float32", "y": "float32"}


def test_last_digit_differences_pass() -> None:
    assert_run_text_close(AVX512, RECORDED, FLOATS)
    assert_run_text_close(
        "Result for output key scores:\n[[5.5277854e-04 9.9944717e-01]]\n",
        "Result for output key scores:\n[[5.5277860e-04 9.9944717e-01]]\n",
        {"scores": "float32"},
    )


def test_layout_may_follow_the_digits() -> None:
    assert_run_text_close(
        "Result for output key y:\n[[-2.5 ]\n [ 2.75]]\n",
        "Result for output key y:\n[[-2.5  ]\n [ 2.750]]\n",
        {"y": "float64"},
    )


@pytest.mark.parametrize(
    ("actual", "dtypes"),
    [
        (RECORDED.replace("-0.73407155", "-0.7341"), FLOATS),  # a real change
        (RECORDED.replace("h:", "g:"), {"g": "float32", "y": "float32"}),  # another key
        (RECORDED.replace("]]\nResult", "]]\nnote\nResult"), FLOATS),  # another word
        (RECORDED.replace("0.3583574 ", ""), FLOATS),  # a missing value
    ],
)
def test_real_differences_fail(actual: str, dtypes: dict[str, str]) -> None:
    with pytest.raises(AssertionError):
        assert_run_text_close(actual, RECORDED, dtypes)


def test_integers_and_strings_are_exact() -> None:
    text = "Result for output key c:\n[[b'pos' b'neg']]\nResult for output key n:\n[3 3 5 0]\n"
    dtypes = {"c": "string", "n": "int64"}
    assert_run_text_close(text, text, dtypes)
    for changed in (text.replace("pos", "pso"), text.replace("5", "6")):
        with pytest.raises(AssertionError):
            assert_run_text_close(changed, text, dtypes)


def test_arrays() -> None:
    a = np.array([[-0.73407155]], np.float32)
    assert_arrays_close(np.nextafter(a, np.float32(0)), a)
    with pytest.raises(AssertionError):
        assert_arrays_close(a + np.float32(1e-3), a)
    with pytest.raises(AssertionError):
        assert_arrays_close(np.array([3], np.int32), np.array([4], np.int32))


def test_output_dtypes_follow_the_signature() -> None:
    argv = ["run", "--dir", "{model}", "--tag_set", "serve", "--signature_def", "predict_y"]
    dtypes = output_dtypes(samcli.model_dir("tf1_multi_tag"), argv)
    assert dtypes == {"classes": "string", "scores": "float32", "y": "float32"}
