"""The England page in headless Chromium (issue 19): no console errors, no axe-core violation,
and each column's button sorts the table, ascending then descending, with aria-sort saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.browser import started

from evalkit.analyses.comparators import compute
from evalkit.run import england, render

pytestmark = pytest.mark.browser

ORDER = ("JSON.stringify([document.querySelectorAll('thead th')[{col}]"
         ".getAttribute('aria-sort'), Array.from(document.querySelectorAll('tbody tr'))"
         ".map(r => r.cells[{col}].dataset.sort)])")
ROWS = [("E06000016", 600, 1000), ("E06000015", 300, 1000), ("E08000025", 900, 3000)]


def test_england_page_sorts_by_each_column_and_passes_axe(tmp_path: Path) -> None:
    councils = pd.DataFrame(ROWS, columns=["area_code", "numerator", "denominator"]).assign(
        area_type=compute.COUNCIL, measure="dp_share", group=compute.EVERYONE)
    table = tmp_path / "comparators.parquet"
    compute.with_totals(councils[compute.COLUMNS]).to_parquet(table, index=False)
    notice = render.synthetic_notice({"generator": "evalkit synth", "seed": 1})
    page, _ = england.write(table, tmp_path, 5, notice)  # with the banner, as on synthetic data
    with started() as browser:
        browser.open(page)
        assert browser.errors() == [] and browser.axe() == []
        for click, expected in ((2, "ascending"), (2, "descending")):
            browser.evaluate(f"document.querySelectorAll('thead th button')[{click}].click()")
            sort, keys = json.loads(browser.evaluate(ORDER.format(col=click)))
            assert sort == expected
            assert keys == sorted(keys, key=float, reverse=expected == "descending")
        browser.evaluate("document.querySelectorAll('thead th button')[0].click()")
        assert json.loads(browser.evaluate(ORDER.format(col=0)))[1] == [
            "Birmingham", "Derby", "Leicester"]
        assert browser.errors() == []
