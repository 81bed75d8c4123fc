"""The England page in headless Chromium (issue 19): it loads without console errors, and each
column's button sorts the table, ascending then descending, with aria-sort saying so and rows
without a value last. Uses the browser of test_browser (skipped without Chromium outside CI)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import Browser, chromium
from test_comparators import council_table

from evalkit.analyses.comparators import compute
from evalkit.run import england

pytestmark = pytest.mark.browser

ORDER = ("JSON.stringify([document.querySelectorAll('thead th')[{col}]"
         ".getAttribute('aria-sort'), Array.from(document.querySelectorAll('tbody tr'))"
         ".map(r => r.cells[{col}].dataset.sort)])")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="evalkit-chromium-") as profile:
        b = Browser(binary, Path(profile))
        try:
            yield b
        finally:
            b.close()


def test_england_page_sorts_by_each_column(browser: Browser, tmp_path: Path) -> None:
    table = tmp_path / "comparators.parquet"
    compute.with_totals(council_table()).to_parquet(table, index=False)
    page, _ = england.write(table, tmp_path, 5)
    browser.open(page)
    assert browser.errors() == []
    browser.evaluate("document.querySelectorAll('thead th button')[2].click()")
    sort, keys = json.loads(browser.evaluate(ORDER.format(col=2)))
    assert sort == "ascending" and keys == sorted(keys, key=float)
    browser.evaluate("document.querySelectorAll('thead th button')[2].click()")
    sort, keys = json.loads(browser.evaluate(ORDER.format(col=2)))
    assert sort == "descending" and keys == sorted(keys, key=float, reverse=True)
    browser.evaluate("document.querySelectorAll('thead th button')[0].click()")
    sort, names = json.loads(browser.evaluate(ORDER.format(col=0)))
    assert names == ["Birmingham", "Derby", "Leicester"]
    assert browser.errors() == []
