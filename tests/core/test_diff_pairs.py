"""smlite diff on real TensorFlow 2.21 exports (tests/fixtures/diff), read without TensorFlow."""

from __future__ import annotations

import pytest

from smlite.model.diff import diff
from smlite.model.policy import Policy
from tests.support.diff_edit import PAIRS
from tests.support.diff_pairs import EXPECTED, check_pair, pair_paths


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_pair_is_classified_as_a_person_expects(case: str) -> None:
    old, new = pair_paths(PAIRS, EXPECTED[case])
    check_pair(diff(old, new, policy=Policy()), EXPECTED[case])


def test_retrained_values_measured() -> None:
    old, new = pair_paths(PAIRS, EXPECTED["retrained"])
    d = diff(old, new, values=True, policy=Policy())
    assert d.changes and all(c.values is not None for c in d.changes)
    for c in d.changes:
        assert c.values is not None and c.values.changed > 0
        assert c.values.max_abs_diff is not None and c.values.max_abs_diff > 0


@pytest.mark.parametrize("name", sorted({e.old for e in EXPECTED.values()}))
def test_each_export_against_itself_is_identical(name: str) -> None:
    d = diff(PAIRS / name, PAIRS / name, policy=Policy())
    assert d.changes == () and d.verdict.code == "identical"
