"""smlite.run.inputs and a module per flag: input flags parsed without evaluating anything."""

from __future__ import annotations

import ast
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smlite import pb
from smlite.cli import run as cli_run
from smlite.run import input_exprs as exprs_mod
from smlite.run import input_files as files_mod
from smlite.run import parse_input_flags
from smlite.run.examples import create_example, parse_input_examples
from smlite.run.input_exprs import MAX_ELEMENTS, parse_input_exprs, parse_literal
from smlite.run.input_files import FileInput, load_input_file, parse_inputs
from smlite.run.inputs import InputError, split_assignments

SRC_RUN = Path(__file__).resolve().parents[2] / "src" / "smlite" / "run"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TF1_MODEL = FIXTURES / "models" / "tf1_multi_tag"


def np_expr(text: str) -> Any:
    return parse_literal(text, allow_numpy=True, what="--input_exprs x:")


# ---------------------------------------------------------------------------
# Splitting and --inputs
# ---------------------------------------------------------------------------


def test_split_assignments_skips_empty_parts_and_cuts_at_first_equals() -> None:
    assert split_assignments(";a=1;; b =x=y;", "--f") == [("a", "1"), ("b", "x=y")]


@pytest.mark.parametrize("bad", ["novalue", "=1", " =1", "a=1;oops"])
def test_split_assignments_rejects_parts_without_key(bad: str) -> None:
    with pytest.raises(InputError, match=r"--f .* is not of the form '<input_key>=<value>'"):
        split_assignments(bad, "--f")


def test_parse_inputs_forms() -> None:
    parsed = parse_inputs("x=/d/a.npy;y=/d/b.npz[second];z=rel=ok.npz")
    assert parsed == {
        "x": FileInput("x", "/d/a.npy"),
        "y": FileInput("y", "/d/b.npz", "second"),
        "z": FileInput("z", "rel=ok.npz"),
    }


@pytest.mark.parametrize("bad", ["x=a.npz[]", "x=a[b]c.npz", "x=a.npz[b][c]", "x=[b]"])
def test_parse_inputs_rejects_bad_brackets(bad: str) -> None:
    with pytest.raises(InputError, match="'<input_key>=<filename>\\[<variable_name>\\]'"):
        parse_inputs(bad)


def test_duplicate_keys_in_one_flag_are_refused() -> None:
    with pytest.raises(InputError, match="more than once"):
        parse_inputs("x=a.npy;x=b.npy")
    with pytest.raises(InputError, match="more than once"):
        parse_input_exprs("x=1;x=2")
    with pytest.raises(InputError, match="more than once"):
        parse_input_examples('x=[{"a": [1]}];x=[{"a": [2]}]')


# ---------------------------------------------------------------------------
# Literals and the numpy allow-list
# ---------------------------------------------------------------------------


def test_python_literals() -> None:
    assert parse_literal("[1, -2.5, +3, 1+2j, -1-2j, 'a', b'b', True, None]") == [
        1,
        -2.5,
        3,
        1 + 2j,
        -1 - 2j,
        "a",
        b"b",
        True,
        None,
    ]
    assert parse_literal("((1, 2), {'k': [1.5]})") == ((1, 2), {"k": [1.5]})
    assert parse_literal("  3.5  ") == 3.5


def test_numpy_constants_only_with_numpy_allowed() -> None:
    value = np_expr("[np.nan, -np.inf, numpy.pi, np.e]")
    assert np.isnan(value[0]) and value[1] == -np.inf and value[2] == np.pi and value[3] == np.e
    with pytest.raises(InputError, match="attribute access"):
        parse_literal("np.nan")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("np.ones((2, 3))", np.ones((2, 3))),
        ("np.ones([2], dtype='int8')", np.ones(2, dtype=np.int8)),
        ("np.zeros(3, dtype=np.float32)", np.zeros(3, dtype=np.float32)),
        ("numpy.zeros(shape=(1, 2), dtype='bool')", np.zeros((1, 2), dtype=bool)),
        ("np.full((2,), 7, 'int32')", np.full((2,), 7, dtype=np.int32)),
        ("np.full(2, fill_value='ab')", np.full(2, "ab")),
        ("np.arange(5)", np.arange(5)),
        ("np.arange(1, 2, 0.25, dtype='float32')", np.arange(1, 2, 0.25, dtype=np.float32)),
        ("np.linspace(0, 1, 5)", np.linspace(0, 1, 5)),
        ("np.linspace(0, 1, num=4, endpoint=False)", np.linspace(0, 1, 4, endpoint=False)),
        ("np.eye(3)", np.eye(3)),
        ("np.eye(2, 3, 1, dtype='int64')", np.eye(2, 3, 1, dtype=np.int64)),
        ("np.array([[1, 2]], dtype='float32')", np.array([[1, 2]], dtype=np.float32)),
        ("np.asarray([b'a', b'bc'])", np.asarray([b"a", b"bc"])),
        ("np.array(3.5)", np.array(3.5)),
    ],
)
def test_allowed_numpy_constructors(expr: str, expected: np.ndarray) -> None:
    value = np_expr(expr)
    assert isinstance(value, np.ndarray)
    assert value.dtype == expected.dtype
    np.testing.assert_array_equal(value, expected)


# Each is rejected before anything is built; (expression, what the message says).
MALICIOUS = [
    ("__import__('os').system('touch {sentinel}')", "calling __import__('os').system"),
    ("exec(\"open('{sentinel}', 'w')\")", "calling a name"),
    ("eval('1')", "calling a name"),
    ("open('{sentinel}', 'w')", "calling a name"),
    ("().__class__.__bases__[0].__subclasses__()", "calling ().__class__"),
    ("np.lib.npyio.os.system('touch {sentinel}')", "calling np.lib.npyio.os.system"),
    ("numpy.save('{sentinel}', 1)", "calling numpy.save"),
    ("np.load('{sentinel}', allow_pickle=True)", "calling np.load"),
    ("np.fromfile('{sentinel}')", "calling np.fromfile"),
    ("np.ones(3).tofile('{sentinel}')", "calling np.ones(3).tofile"),
    ("np.ones(np.zeros(3))", "a function call"),
    ("np.array([np.ones(2)])", "a function call"),
    ("np.ones(3, dtype=__import__('os').system('touch {sentinel}'))", "a dtype that is not"),
    ("np.__dict__", "attribute access np.__dict__"),
    ("np.ones.__globals__", "attribute access"),
    ("np.ones", "attribute access np.ones"),
    ("(lambda: __import__('os').system('touch {sentinel}'))()", "calling a lambda"),
    ("lambda: 1", "a lambda"),
    ("[__import__('os') for _ in (1,)]", "a comprehension"),
    ("{{k: 1 for k in 'ab'}}", "a comprehension"),
    ("(x for x in ())", "a generator expression"),
    ("(y := 3)", "an assignment expression"),
    ("f'{{1}}'", "an f-string"),
    ("some_name", "a name"),
    ("np.ones(3)[0]", "subscripting"),
    ("1 if True else 2", "a conditional expression"),
    ("'a' * 100000000", "arithmetic"),
    ("np.ones((10**12,))", "arithmetic"),
    ("np.ones(*[3])", "unpacking"),
    ("np.ones(3, **{{'dtype': 'f'}})", "'**' unpacking"),
    ("np.ones(3, dtype=object)", "a dtype that is not a string"),
    ("np.ones(3, order='F')", "keyword argument 'order' of np.ones"),
    ("np.random.rand(3)", "calling np.random.rand"),
    ("{{1, 2}}", "a set"),
    ("not 1", "an operator"),
    ("1 < 2", "a comparison"),
]


@pytest.mark.parametrize(("template", "message"), MALICIOUS)
def test_malicious_expressions_are_rejected_and_nothing_runs(
    template: str, message: str, tmp_path: Path
) -> None:
    sentinel = tmp_path / "SENTINEL"
    expr = template.format(sentinel=sentinel)
    with pytest.raises(InputError) as info:
        np_expr(expr)
    text = str(info.value)
    assert message in text
    assert "is not allowed; allowed are Python literals" in text
    assert "np.ones" in text  # the message lists the allowed constructors
    assert not sentinel.exists()


@pytest.mark.parametrize(
    "expr",
    [
        "np.ones((1000000000000,))",
        "np.zeros((100000, 100000))",
        "np.full((4000, 4000), 1.5)",
        "np.arange(1e12)",
        "np.arange(0, 100000000)",
        "np.linspace(0, 1, 1000000000)",
        "np.eye(100000)",
        "np.eye(3, 100000000)",
    ],
)
def test_allocations_are_bounded_before_numpy_is_called(
    expr: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("numpy constructor called")

    for name in ("ones", "zeros", "full", "arange", "linspace", "eye"):
        monkeypatch.setattr(exprs_mod.np, name, boom)
    with pytest.raises(InputError, match=f"elements; at most {MAX_ELEMENTS} are allowed"):
        np_expr(expr)


def test_largest_allowed_allocation_passes() -> None:
    assert np_expr(f"np.zeros({MAX_ELEMENTS}, dtype='int8')").size == MAX_ELEMENTS


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("np.ones(-1)", "negative dimension"),
        ("np.ones(True)", "not an integer"),
        ("np.ones(2.5)", "not an integer"),
        ("np.arange(0, 10, 0)", "zero or non-finite"),
        ("np.arange(np.inf)", "zero or non-finite"),
        ("np.linspace(0, 1, -1)", "negative num"),
        ("np.eye(-2)", "negative size"),
        ("np.ones(3, dtype='float128')", "dtype 'float128' is not accepted; choose one of:"),
        ("np.ones(3, dtype='O')", "dtype 'O' is not accepted"),
        ("np.array([1, 'a', None])", "can only hold as objects"),
        ("np.array({'a': 1})", "can only hold as objects"),
        ("np.array([[1], [1, 2]])", "numpy refuses"),
        ("np.ones()", "without its argument 'shape'"),
        ("np.full(3)", "without its argument 'fill_value'"),
        ("np.ones(3, shape=2)", "given twice"),
        ("np.ones(1, 'int8', 3)", "3 positional arguments"),
        ("np.full(2, [1, 2])", "fill_value that is not a scalar"),
    ],
)
def test_bad_constructor_arguments(expr: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        np_expr(expr)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2", "is not valid Python syntax"),
        ("9" * 5000, "is not valid Python syntax"),
        ("[" * 300 + "]" * 300, "is not valid Python syntax"),
        ("-" * 100000 + "1", "cannot be parsed: it is nested too deeply"),
        ("-" * 2500 + "1", "is nested too deeply"),
        ("1+" * 100000 + "1", "cannot be parsed: maximum recursion depth"),
        ("...", "'...'"),
        ("-'a'", "a sign on something that is not a number"),
        ("1+2", "only complex literals such as 1+2j"),
        ("{[1]: 2}", "a dict key that is not a string or number"),
    ],
)
def test_syntax_and_literal_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("+", r"\+").replace("[", r"\[")):
        parse_literal(text, what="--input_exprs x:")


def test_long_expressions_are_shortened_in_messages() -> None:
    with pytest.raises(InputError) as info:
        parse_literal("[" + "1, " * 1000 + "x]", what="--input_exprs x:")
    assert len(str(info.value)) < 600


def test_parse_input_exprs_builds_each_key() -> None:
    parsed = parse_input_exprs("a=[[1.0, 2.0]]; b = np.ones(2, dtype='int8') ;c='s'")
    assert parsed["a"] == [[1.0, 2.0]]
    assert parsed["b"].dtype == np.int8
    assert parsed["c"] == "s"


def test_cli_refuses_code_in_input_exprs_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sentinel = tmp_path / "SENTINEL"
    code = cli_run(
        [
            "run",
            "--dir",
            str(TF1_MODEL),
            "--tag_set",
            "serve,gpu",
            "--input_exprs",
            f"x=__import__('os').system('touch {sentinel}')",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "smlite: error: --input_exprs x:" in err
    assert "is not allowed" in err
    assert not sentinel.exists()


def test_run_package_never_calls_eval_exec_or_compile() -> None:
    banned = {"eval", "exec", "compile", "__import__"}
    found = []
    for path in sorted(SRC_RUN.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id in banned:
                found.append(f"{path.name}:{node.lineno} {node.func.id}")
    assert not found


# ---------------------------------------------------------------------------
# Input files
# ---------------------------------------------------------------------------


class _Sentinel:
    """Unpickling this creates a file: proof that a pickle was (not) loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


def test_npy_and_npz_inputs(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    np.savez(tmp_path / "one.npz", only=np.ones(2))
    np.savez_compressed(tmp_path / "two.npz", first=np.zeros(1), second=np.full(2, 3))
    a = load_input_file(FileInput("x", str(tmp_path / "a.npy")))
    assert a.dtype == np.float32 and a.shape == (2, 3)
    np.testing.assert_array_equal(
        load_input_file(FileInput("x", str(tmp_path / "one.npz"))), [1, 1]
    )
    second = load_input_file(FileInput("x", str(tmp_path / "two.npz"), "second"))
    np.testing.assert_array_equal(second, [3, 3])
    # The file type comes from its bytes, not its name.
    (tmp_path / "a.npy").rename(tmp_path / "renamed.bin")
    assert load_input_file(FileInput("x", str(tmp_path / "renamed.bin"))).shape == (2, 3)


def test_npy_with_a_name_warns_and_uses_the_array(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.ones(2))
    warnings: list[str] = []
    value = load_input_file(
        FileInput("x", str(tmp_path / "a.npy"), "ignored"), warn=warnings.append
    )
    assert value.shape == (2,)
    assert warnings == [
        f"input file {tmp_path / 'a.npy'} contains a single ndarray; name key 'ignored' ignored"
    ]


def test_npz_name_errors(tmp_path: Path) -> None:
    np.savez(tmp_path / "two.npz", first=np.zeros(1), second=np.ones(1))
    path = tmp_path / "two.npz"
    with pytest.raises(InputError, match="contains 2 arrays \\('first', 'second'\\); name the one"):
        load_input_file(FileInput("x", str(path)))
    with pytest.raises(InputError, match="does not contain an array named 'third'"):
        load_input_file(FileInput("x", str(path), "third"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--inputs x: cannot read .*nope\.npy"):
        load_input_file(FileInput("x", str(tmp_path / "nope.npy")))


def test_pickle_files_are_refused_without_allow_pickle(tmp_path: Path) -> None:
    sentinel = tmp_path / "SENTINEL"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_Sentinel(str(sentinel))))
    with pytest.raises(InputError, match="--allow-pickle"):
        load_input_file(FileInput("x", str(path)))
    assert not sentinel.exists()


def test_pickle_files_load_with_allow_pickle(tmp_path: Path) -> None:
    path = tmp_path / "data.pkl"
    path.write_bytes(pickle.dumps({"a": [1, 2]}))
    assert load_input_file(FileInput("x", str(path), "a"), allow_pickle=True) == [1, 2]
    with pytest.raises(InputError, match="does not contain variable with name 'b'"):
        load_input_file(FileInput("x", str(path), "b"), allow_pickle=True)


def test_object_arrays_need_allow_pickle(tmp_path: Path) -> None:
    sentinel = tmp_path / "SENTINEL"
    arr = np.array([_Sentinel(str(sentinel))], dtype=object)
    np.save(tmp_path / "obj.npy", arr, allow_pickle=True)
    np.savez(tmp_path / "obj.npz", o=arr)
    with pytest.raises(InputError, match=r"Python objects.*--allow-pickle"):
        load_input_file(FileInput("x", str(tmp_path / "obj.npy")))
    with pytest.raises(InputError, match=r"Python objects.*--allow-pickle"):
        load_input_file(FileInput("x", str(tmp_path / "obj.npz")))
    assert not sentinel.exists()


def _npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    """Magic and header of an .npy file declaring ``shape`` (no data)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def test_npy_header_larger_than_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lying.npy"
    path.write_bytes(_npy_header((10**12,)) + b"\0" * 16)
    with pytest.raises(InputError, match=r"declares shape \(1000000000000,\).* only 16 bytes"):
        load_input_file(FileInput("x", str(path)))


def test_npz_member_header_larger_than_its_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lying.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", _npy_header((10**12,)) + b"\0" * 8)
    with pytest.raises(InputError, match="declares shape"):
        load_input_file(FileInput("x", str(path)))


def test_npz_members_over_the_size_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    np.savez_compressed(tmp_path / "big.npz", z=np.zeros(4096))
    monkeypatch.setattr(files_mod, "MAX_MEMBER_BYTES", 1024)
    with pytest.raises(InputError, match="bytes when decompressed; smlite reads at most 1024"):
        load_input_file(FileInput("x", str(tmp_path / "big.npz")))


def test_npz_member_that_is_not_npy(tmp_path: Path) -> None:
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("notes.txt", b"hello")
    with pytest.raises(InputError, match=r"not a \.npy array"):
        load_input_file(FileInput("x", str(path)))


def test_truncated_npy(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    np.save(path, np.ones(4))
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(InputError, match=r"not a valid \.npy array"):
        load_input_file(FileInput("x", str(path)))


# ---------------------------------------------------------------------------
# --input_examples
# ---------------------------------------------------------------------------


def test_create_example_feature_kinds() -> None:
    data = create_example({"f": [1.5, 2], "i": [7, True], "s": ["é", b"\xff"]})
    ex = pb.Example.FromString(data)
    feats = ex.features.feature
    assert list(feats["f"].float_list.value) == [1.5, 2.0]
    assert list(feats["i"].int64_list.value) == [7, 1]
    assert list(feats["s"].bytes_list.value) == ["é".encode(), b"\xff"]


def test_create_example_matches_known_bytes() -> None:
    # tf.train.Example(features={'x': float_list [1.0]}), as TensorFlow serializes it.
    assert create_example({"x": [1.0]}).hex() == "0a0f0a0d0a0178120812060a040000803f"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("k={'x': [1.0]}", "must be a list of dicts"),
        ("k=[[1.0]]", "each tf.Example must be a dict"),
        ("k=[{'x': 1.0}]", "feature 'x' must be a list of values"),
        ("k=[{'x': []}]", "feature 'x' is an empty list"),
        ("k=[{'x': [1.0, 'a']}]", "is a float list but holds 'a'"),
        ("k=[{'x': [1, 2.5]}]", "is an int64 list but holds 2.5"),
        ("k=[{'x': [2**70]}]", "arithmetic"),
        ("k=[{'x': [1180591620717411303424]}]", "is an int64 list but holds"),
        ("k=[{'x': ['a', 1]}]", "is a string list but holds 1"),
        ("k=[{'x': [[1.0]]}]", "cannot go into a tf.train.Feature"),
        ("k=[{'x': [None]}]", "cannot go into a tf.train.Feature"),
        ("k=[{1: [1.0]}]", "feature names must be strings"),
        ("k=[{'x': ['\\ud800']}]", "not valid UTF-8"),
        ("k=[{'x': np.ones(2)}]", "a function call"),
    ],
)
def test_input_examples_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_input_examples(text)


def test_parse_input_examples_serializes_each_example() -> None:
    parsed = parse_input_examples('inputs=[{"x":[1.0,2.0]},{"x":[-1.5,0.5]}]')
    assert len(parsed["inputs"]) == 2
    second = pb.Example.FromString(parsed["inputs"][1])
    assert list(second.features.feature["x"].float_list.value) == [-1.5, 0.5]


# ---------------------------------------------------------------------------
# Precedence
# ---------------------------------------------------------------------------


def test_precedence_examples_over_exprs_over_files() -> None:
    parsed = parse_input_flags(
        inputs="a=f.npy;b=g.npy;c=h.npy", input_exprs="b=1;c=2", input_examples='c=[{"x":[1]}]'
    )
    assert dict(parsed.sources) == {"a": "--inputs", "b": "--input_exprs", "c": "--input_examples"}
    both = "is given by both --inputs and --input_exprs; the --input_exprs value is used"
    assert parsed.warnings == (
        f"input key 'b' {both}",
        f"input key 'c' {both}",
        "input key 'c' is given by several options; the --input_examples value is used",
    )
