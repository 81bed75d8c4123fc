"""Notebook 02's language gap is an exact count of every person with a Direct Payment, not an
estimate from a sample: it is shown as exact, with no confidence interval, in the compute frame,
the published frame, the key-finding sentence, the table, the chart and results.json (issue 17
item 3: "exact quantities shown as exact (no fake CI)")."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import evalkit
from evalkit.analyses import pa_market as pm
from evalkit.analyses.pa_market.findings import EXACT
from evalkit.report import style
from evalkit.synth.generator import synthesise


@pytest.fixture(scope="module")
def pub(tmp_path_factory):
    """The Publication of a small synthetic council."""
    data = evalkit.load(synthesise(tmp_path_factory.mktemp("exact02") / "data", scale=0.5,
                                   seed=3))
    return pm.publish(pm.analyse(data, n_boot=20))


def shown_html(show, pub, monkeypatch) -> str:
    """The text `show(pub)` displays (Markdown, HTML, alt text; the image data left out)."""
    out: list[str] = []
    monkeypatch.setattr(style, "display", lambda obj: out.append(
        re.sub(r"base64,[^\"]+", "", str(getattr(obj, "data", obj)))))
    show(pub)
    return "\n".join(out)


def test_coverage_has_no_interval_and_ranks_by_the_exact_share():
    pas = pd.DataFrame({"pa_id": ["p1", "p2"], "languages": ["English;Urdu", "English"],
                        "area_code": ["A1", "A2"]})
    rec = pd.DataFrame({"preferred_language": ["Urdu"] * 4 + ["Tigrinya", "Somali", "Somali"]
                        + ["English"] * 2,
                        "area_code": ["A1", "A2", "A2", "A2", "A1", "A1", "A2", "A1", "A2"]})
    cov = pm.language_coverage(pas, rec)
    assert not {"lower", "upper", "conf"} & set(cov.columns)
    # Somali and Tigrinya: nobody near a PA who speaks it (Somali, two people, first); Urdu:
    # 3 of 4 live in A2, where no PA speaks it (old ranking by a Wilson lower limit put it first)
    assert cov["language"].tolist() == ["Somali", "Tigrinya", "Urdu", "English"]
    assert cov["value"].tolist() == [1.0, 1.0, 0.75, 0.0]


def test_published_gap_and_results_json_rows_are_exact(pub, tmp_path):
    cov = pub["coverage"]
    assert not {"lower", "upper"} & set(cov.columns)
    shown = cov[cov["value"].notna()]
    assert len(shown) and (shown["value"] == shown["no_pa_area"] / shown["with_area"]).all()
    rows = json.loads(pm.record(pub, str(tmp_path / "results.json")).read_text())["estimates"]
    gaps = [r for r in rows if r["name"] == "language_gap"]
    assert gaps and all(r["lower"] is None and r["upper"] is None and r["note"] == EXACT
                        for r in gaps)


def test_gap_sentence_gives_the_counts_and_no_interval(pub):
    row = pub["coverage"].dropna(subset=["value", "no_pa_area", "with_area"]).iloc[0]
    sentence = pm.gap_sentence(row)
    assert "CI" not in sentence and "confidence" not in sentence
    assert f"{row['no_pa_area']:,.0f} of the {row['with_area']:,.0f}" in sentence


def test_gap_table_and_chart_say_exact_and_show_no_interval(pub, monkeypatch):
    table = shown_html(pm.show_language_gaps, pub, monkeypatch)
    assert "95% CI" not in table and "no confidence interval" in table
    chart = shown_html(pm.show_language_gap_chart, pub, monkeypatch)
    assert "95%" not in chart and "exact" in chart
