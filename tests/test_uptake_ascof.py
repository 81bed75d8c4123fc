"""Notebook 01 opens with ASCOF 3D 1a/2a for the council (issue 16 item 2): the loader's official
figures carried in the Uptake result, published like every other count (rounded to 5, 1-7
suppressed, percent from the rounded counts), the cohort every breakdown counts adding up to the
official total, and no frame (a sentence saying why) when the data are not raw CLD."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from helpers.attack_reports import attack_data

import evalkit
from evalkit.analyses import uptake as u
from evalkit.analyses.uptake.compute import council_ascof
from evalkit.report import style
from evalkit.synth.generator import synthesise

BASE, SMALLEST = 5, 8  # rounding base and least count shown for min_cell 5


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return evalkit.load(synthesise(tmp_path_factory.mktemp("cld") / "data", scale=0.2, seed=1,
                                   fmt="cld"))


@pytest.fixture(scope="module")
def res(data):
    return u.analyse(data)


def said(pub, monkeypatch) -> str:
    """What show_ascof puts on the page (HTML and Markdown), as text."""
    shown: list[str] = []
    monkeypatch.setattr(style, "display", lambda obj: shown.append(str(getattr(obj, "data", ""))))
    u.show_ascof(pub)
    return "\n".join(shown)


def protected(values: pd.Series) -> np.ndarray:
    """What the disclosure rule makes of true counts: 1-7 missing, others to the nearest 5."""
    v = values.to_numpy(dtype=float)
    return np.where((v > 0) & (v < SMALLEST), np.nan, BASE * np.floor(v / BASE + 0.5))


def test_the_result_holds_the_official_figures_of_the_council(data, res):
    want = data.ascof[data.ascof["la_code"] == res.la_code].reset_index(drop=True)
    assert len(want) == 6  # three age bands x two measures
    pd.testing.assert_frame_equal(res.ascof, want)


def test_the_cohort_adds_up_to_the_official_total(res):
    adults = res.ascof[res.ascof["age_band"] == "18+"].set_index("measure")
    assert len(res.snap) == adults.loc["3D2a", "denominator"] == adults.loc["3D1a", "denominator"]
    assert res.snap["has_dp"].sum() == adults.loc["3D2a", "numerator"]
    assert res.by_broad["people"].sum() == adults.loc["3D2a", "denominator"]
    assert res.by_broad["dp"].sum() == adults.loc["3D2a", "numerator"]


def test_published_counts_are_rounded_or_suppressed_and_percent_is_from_them(res):
    small = pd.DataFrame({  # a small council: the 18-64 band of 6 people is left out
        "la_code": "E0", "age_band": ["18-64", "18-64", "65+", "65+", "18+", "18+"],
        "measure": ["3D1a", "3D2a"] * 3, "numerator": [5, 3, 52, 4, 57, 7],
        "denominator": [6, 6, 62, 62, 68, 68], "percent": [83.3, 50.0, 83.9, 6.5, 83.8, 10.3]})
    for true in (res.ascof, small):
        shown = u.publish(dataclasses.replace(res, ascof=true))["ascof"]
        kept = true[~true["denominator"].between(1, SMALLEST - 1)].reset_index(drop=True)
        assert list(shown["age_band"]) == list(kept["age_band"])
        for col in ("numerator", "denominator"):
            np.testing.assert_array_equal(shown[col].to_numpy(), protected(kept[col]))
        share = 100 * shown["numerator"] / shown["denominator"]
        np.testing.assert_allclose(shown["percent"], share.where(shown["denominator"] >= 50))
    assert shown["numerator"].isna().any() and shown["percent"].isna().any()
    assert list(shown["numerator"].fillna(-1)) == [50, -1, 55, -1]  # 18-64 went; 4, 7 hidden


def test_all_councils_sum_numerators_and_denominators():
    two = pd.DataFrame({"la_code": ["E1", "E1", "E2", "E2"], "age_band": "18+",
                        "measure": ["3D1a", "3D2a"] * 2, "numerator": [2, 1, 1, 1],
                        "denominator": [3, 3, 5, 5], "percent": [66.7, 33.3, 20.0, 20.0]})
    got = council_ascof(two, "all")
    assert got.to_dict("records") == [
        {"la_code": "all", "age_band": "18+", "measure": "3D1a", "numerator": 3,
         "denominator": 8, "percent": 37.5},
        {"la_code": "all", "age_band": "18+", "measure": "3D2a", "numerator": 2,
         "denominator": 8, "percent": 25.0}]
    assert council_ascof(two, "E2").equals(two.iloc[2:].reset_index(drop=True))
    assert council_ascof(None, "all") is None


def test_the_page_shows_the_table_the_share_and_why_it_can_differ(res, monkeypatch):
    pub = u.publish(res)
    page = said(pub, monkeypatch)
    adults = pub["ascof"].query("age_band == '18+' and measure == '3D2a'").iloc[0]
    for label in ("Self-directed support (3D part 1a)", "Direct Payments (3D part 2a)",
                  'class="count"'):
        assert label in page
    assert f"{adults['percent']:.1f}% of the {int(adults['denominator']):,} adults" in page
    assert "counts rounded for disclosure control" in page
    assert f"evalkit ascof DATA_DIR --period-end {res.period_end.date().isoformat()}" in page


def test_data_that_are_not_raw_cld_give_no_frame_and_say_why(tmp_path, monkeypatch):
    contract = evalkit.load(synthesise(tmp_path / "data", scale=0.1, seed=1))
    res = u.analyse(contract)
    pub = u.publish(res)
    assert contract.ascof is None and res.ascof is None and pub["ascof"] is None
    assert "needs raw Client Level Data" in said(pub, monkeypatch)


def test_no_small_count_is_learnt_with_the_ascof_frame(data, tmp_path):
    """The attack of issue 14 on 01 from raw CLD (its own suite reads the contract format):
    every relation the attacker assumes of the ascof frame holds, and no count of 1-4 is
    recovered or narrowed."""
    for found in attack_data(data, tmp_path, analyses=["uptake"]):
        assert not (found.wrong or found.contradictions or found.leaks or found.sentences)
