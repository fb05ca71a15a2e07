"""tests/support/samcli.py: normalisation of saved_model_cli output and the recorded fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import samcli
from tests.support.samcli import normalize

FUNCTIONS = "\nConcrete Functions:\n  Function Name: 'f'\n    Option #1\n      Callable with:\n"
VALUE = " " * 10 + "Value: "


def test_backspaces_erase_the_trailing_separator() -> None:
    assert normalize(VALUE + "[1, 'a', \b\b]") == VALUE + "[1, 'a']"
    assert normalize(VALUE + "{'k': 1, \b\b}") == VALUE + "{'k': 1}"


def test_backspaces_after_an_empty_container_erase_nothing() -> None:
    assert normalize(VALUE + "[\b\b]\n") == VALUE + "[]\n"
    assert normalize(VALUE + "{\b\b}\n") == VALUE + "{}\n"


def test_op_sets_are_sorted() -> None:
    line = "The MetaGraph with tag set ['serve', 'gpu'] contains the following ops: {'b', 'A', 'a'}"
    want = "The MetaGraph with tag set ['serve', 'gpu'] contains the following ops: {'A', 'a', 'b'}"
    assert normalize(line) == want


@pytest.mark.parametrize(
    "middle",
    [" contains the following denylisted ops: ", " does not contain the default denylisted ops: "],
)
def test_scan_sets_are_sorted(middle: str) -> None:
    head = "MetaGraph with tag set ['serve']" + middle
    assert normalize(head + "{'WriteFile', 'PrintV2', 'ReadFile'}\n") == (
        head + "{'PrintV2', 'ReadFile', 'WriteFile'}\n"
    )
    assert normalize(head + "set()") == head + "set()"


def test_other_lines_are_left_alone() -> None:
    text = "signature_def['x']:\n  Method name is: {b, a}\n" + VALUE + "{'b': 1, 'a': 2}\n"
    assert normalize(text) == text  # no Concrete Functions header: not an argument line


def test_dicts_on_value_lines_are_sorted_recursively() -> None:
    text = (
        FUNCTIONS
        + VALUE
        + "{'z': {'y': TensorSpec(shape=(), dtype=tf.float32, name='z_y'), 'x': 1}, "
        + "'a': ('p, q', {'d': 1, 'c': [2, {'f': 3, 'e': 4}]}), \b\b}"
    )
    want = (
        FUNCTIONS
        + VALUE
        + "{'a': ('p, q', {'c': [2, {'e': 4, 'f': 3}], 'd': 1}), "
        + "'z': {'x': 1, 'y': TensorSpec(shape=(), dtype=tf.float32, name='z_y')}}"
    )
    assert normalize(text) == want


def test_unparseable_value_line_is_kept() -> None:
    text = FUNCTIONS + VALUE + "{'b': 'it's', 'a': 1, \b\b}"
    assert normalize(text) == FUNCTIONS + VALUE + "{'b': 'it's', 'a': 1}"


def test_named_arguments_are_sorted_and_renumbered() -> None:
    arg = " " * 8 + "Named Argument #"
    text = FUNCTIONS + "".join(
        f"{arg}{i}\n{' ' * 10}{name}\n" for i, name in enumerate(["zeta", "alpha", "mid"], 1)
    )
    want = FUNCTIONS + "".join(
        f"{arg}{i}\n{' ' * 10}{name}\n" for i, name in enumerate(["alpha", "mid", "zeta"], 1)
    )
    assert normalize(text) == want


# ------------------------------------------------------------------------------------------------
# The committed fixtures.
# ------------------------------------------------------------------------------------------------

NAMES = samcli.fixture_names()


def test_fixtures_are_present() -> None:
    for name in ("tf1_multi_tag", "tf1_pbtxt", "polymorphic", "custom_op", "serving_base"):
        assert name in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_recorded_outputs_normalize_cleanly(name: str) -> None:
    for case in samcli.load_cases(name) + samcli.load_cases(name, run=True):
        text = case.normalized_stdout
        assert "\b" not in text, case
        assert normalize(text) == text, case  # idempotent
        for line in text.splitlines():
            if " ops: {" in line:
                items = line.rpartition(": {")[2].rstrip("}").split(", ")
                assert items == sorted(items), (case, line)


@pytest.mark.parametrize("name", NAMES)
def test_recorded_variables_load_without_pickle(name: str) -> None:
    doc = samcli.load_expected(name)
    values = samcli.load_variable_values(name)
    for group in doc["variables"]:
        got = values[group["prefix"]]
        for entry in group["entries"]:
            if entry["key"] == "_CHECKPOINTABLE_OBJECT_GRAPH":
                assert entry["key"] not in got
                continue
            array = got[entry["key"]]
            assert list(array.shape) == entry["shape"], entry["key"]
            if entry["dtype"] == "string":
                assert array.dtype == np.dtype(object)
            else:
                assert array.dtype.name == entry["numpy_dtype"], entry["key"]


def test_case_argv_placeholders() -> None:
    case = samcli.load_cases("tf1_multi_tag", run=True)[0]
    argv = case.argv_for("/m", inputs="/i", outdir="/o")
    assert argv[:3] == ["run", "--dir", "/m"]
    with_outdir = next(
        c for c in samcli.load_cases("tf1_multi_tag", run=True) if "{outdir}" in c.argv
    )
    with pytest.raises(ValueError, match="outdir"):
        with_outdir.argv_for("/m")
