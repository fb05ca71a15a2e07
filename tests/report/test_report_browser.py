"""``smlite report`` pages in a real browser: Debian's headless Chromium, network off.

Each page must load nothing but itself, log no console error and no script
error, show every signature as a card, draw the call-structure picture as SVG
with exactly the function nodes the model calls for, and draw the treemap.
Hostile names must show as text without running.  Screenshots go to
``$SMLITE_REPORT_SCREENSHOTS`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import smlite
from smlite.cli import run
from smlite.model.calls import call_graph
from tests.support.browser import browser, open_page
from tests.support.report_models import (
    HOSTILE_FUNCTION,
    HOSTILE_SIGNATURE,
    HOSTILE_VARIABLE,
    build_hostile,
    build_model,
)
from tests.support.samcli import FIXTURES

MODELS = FIXTURES / "models"
# One of each kind: TF2 module, Keras, polymorphic functions, TF1 with three meta graphs,
# composite signatures, a custom op, risky ops, a TF Serving base path, sharded variables.
CASES = (
    "module_multi_signature",
    "keras_model",
    "polymorphic",
    "tf1_multi_tag",
    "sparse_ragged",
    "custom_op",
    "denylisted_ops",
    "serving_base",
    "variables_sharded",
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser() as b:
        yield b


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SMLITE_REPORT_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page_file(model: Path, tmp_path: Path) -> Path:
    out = tmp_path / f"{model.name}.html"
    assert run(["report", str(model), "-o", str(out)]) == 0
    return out


def _expected_functions(model: Path) -> list[int]:
    with smlite.open(model) as sm:
        return [
            sum(1 for n in call_graph(mg).nodes if n.kind == "function") for mg in sm.meta_graphs
        ]


def _signatures(model: Path) -> set[str]:
    with smlite.open(model) as sm:
        return {key for mg in sm.meta_graphs for key in mg.signatures}


def _assert_clean(page_file: Path, log: Any) -> None:
    assert log.console_errors == [], log.console_errors
    assert log.page_errors == [], log.page_errors
    assert log.requests == [page_file.resolve().as_uri()], log.requests


@pytest.mark.parametrize("name", CASES)
def test_fixture_report_in_chromium(name: str, chromium: Any, tmp_path: Path) -> None:
    model = MODELS / name
    page_file = _page_file(model, tmp_path)
    with open_page(chromium, page_file) as (page, log):
        shown = set(
            page.eval_on_selector_all(
                ".card[data-signature]", "els => els.map(e => e.dataset.signature)"
            )
        )
        assert shown == _signatures(model)
        pictures = page.locator("svg.callgraph")
        expected = _expected_functions(model)
        assert pictures.count() == len(expected)
        for i, count in enumerate(expected):
            holder = page.locator(f"#callgraph-{i}")
            assert holder.locator("g.node.function").count() == count
            assert holder.locator("svg.callgraph").get_attribute("data-functions") == str(count)
            assert holder.locator("g.node.signature").count() >= 1 or not _signatures(model)
            assert holder.locator("path.edge").count() >= 1
        assert page.locator("svg#treemap rect").count() >= 3
        if name == "custom_op":
            assert page.locator("g.node.custom").count() == 2  # the graph and one function
        if name == "denylisted_ops":
            assert page.locator("g.node.risky").count() >= 1
        page.screenshot(path=str(_shots(tmp_path) / f"report-{name}.png"), full_page=True)
    _assert_clean(page_file, log)


def test_variables_table_sorts_and_filters(chromium: Any, tmp_path: Path) -> None:
    page_file = _page_file(MODELS / "keras_model", tmp_path)
    with open_page(chromium, page_file) as (page, log):
        rows = page.locator("#variables-table tbody tr")
        assert rows.count() == 4
        page.fill("input.filter", "bias")
        assert page.locator("#variables-table tbody tr:visible").count() == 2
        assert page.text_content("#variables-shown") == "2"
        page.fill("input.filter", "")
        page.click("#variables-table th:has-text('bytes')")
        first = page.text_content("#variables-table tbody tr:first-child td:first-child")
        page.click("#variables-table th:has-text('bytes')")
        last_first = page.text_content("#variables-table tbody tr:first-child td:first-child")
        assert {first, last_first} == {"_operations.4.bias", "_operations.3._kernel"}
    _assert_clean(page_file, log)


def test_hostile_names_show_as_text_and_never_run(chromium: Any, tmp_path: Path) -> None:
    model = tmp_path / "model"
    build_hostile(model)
    page_file = _page_file(model, tmp_path)
    with open_page(chromium, page_file) as (page, log):
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert page.locator("b", has_text="bold").count() == 0
        cards = page.eval_on_selector_all(".card h4", "els => els.map(e => e.textContent)")
        assert HOSTILE_SIGNATURE in cards
        titles = page.eval_on_selector_all("g.node title", "els => els.map(e => e.textContent)")
        assert any(t.startswith(HOSTILE_FUNCTION) for t in titles)
        assert HOSTILE_VARIABLE in page.text_content("#variables-table")
    _assert_clean(page_file, log)


def test_large_library_is_capped(chromium: Any, tmp_path: Path) -> None:
    model = tmp_path / "model"
    build_model(model, functions=400)
    page_file = _page_file(model, tmp_path)
    with open_page(chromium, page_file) as (page, log):
        assert page.locator("#callgraph-0 g.node.function").count() == 150
        assert "250 of 400 functions are not drawn" in page.text_content("#calls")
    _assert_clean(page_file, log)
