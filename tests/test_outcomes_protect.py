"""Notebook 03 publishes only protected figures (issue 14 item 1): every count is 0, suppressed
or rounded to 5; sentences with counts in them ("there were 0 events before and 2 after") carry
the protected counts; rates (baselines, the indexed series) come from the rounded counts; run
charts, whose limits are worked out from the exact months, only when no month is suppressed."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit import stats as st
from evalkit.analyses import outcomes as o
from evalkit.analyses.outcomes.publish import (
    _controlled,
    _controlled_shown,
    hidden_sides,
    without_sides,
    worded,
)
from evalkit.report import style
from evalkit.report.publication import default_rules
from evalkit.synth.generator import synthesise

#: Count columns by frame kind (the part of the name before "/").
COUNTS = {"changes": ("events_before", "events_after"), "quality": ("rows",),
          "engagement": ("people",), "series": ("y", "n"), "controlled": ("y", "pre_total"),
          "its": ("events_before", "events_after"), "offers": ("offered", "episodes"),
          "offers_did": ("n", "fewest"), "survey": ("n_before", "n_after"),
          "survey_by": ("n_before", "n_after"),
          "controlled_its": ("target_before", "target_after", "comparison_before",
                             "comparison_after")}


@pytest.fixture(scope="module")
def pub(tmp_path_factory):
    """A small council (scale 0.3, seed 1): C3 (Somali speakers) has 0 DP starts before its date
    and 1 after, and most monthly counts are 1 to 7."""
    data = evalkit.load(synthesise(tmp_path_factory.mktemp("protect03") / "data", scale=0.3,
                                   seed=1))
    return o.publish(o.analyse(data))


def _rounded(values) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return bool(((v == 0) | ((v % 5 == 0) & (v >= 10))).all())


def test_counts_in_sentences_are_protected():
    rules = default_rules(5)
    assert worded("there were 0 events before and 2 after; at least 10 are needed", rules) == (
        "there were 0 events before and [c] after; at least 10 are needed")
    assert worded("C4 has too few events among these people (3 before, 12 after) to separate "
                  "its effect", rules) == ("C4 has too few events among these people ([c] "
                                           "before, 10 after) to separate its effect")
    months = "need at least 8 months; found 3 before and 18 after"
    assert worded(months, rules) == months  # months are not counts


def test_every_published_count_is_zero_suppressed_or_rounded(pub):
    checked = 0
    for name in pub:
        frame, kind = pub[name], name.split("/", 1)[0]
        for col in COUNTS.get(kind, ()):
            if frame is not None and col in frame:
                assert _rounded(frame[col]), (name, col)
                checked += len(frame)
    assert checked > 500
    assert pub["series/C2"]["y"].isna().sum() > 10  # small monthly counts are suppressed


def test_no_sentence_gives_a_small_count(pub):
    c3 = pub["changes"].set_index("change_id").loc["C3"]
    assert c3["shortfall"].startswith("there were 0 events before and [c] after")
    texts = [*pub["changes"]["shortfall"].dropna(),
             *(n for name in pub if name.startswith("its_notes/") for n in pub[name]["note"])]
    small = re.compile(r"\b[1-7] (events )?(before|after)")
    assert [t for t in texts if small.search(t) and "events" in t] == []
    assert not any(re.search(r"\b[1-7] (before|after)\)", t) for t in texts)


def test_rates_come_from_the_rounded_counts(pub):
    plan = pub["planning"]
    counts = pub["planning/counts"]
    assert np.allclose(plan["baseline"], counts["starts"] / counts["months"], equal_nan=True)
    assert plan.loc[counts["starts"].isna(), ["baseline", "mde"]].isna().all().all()
    power = pub["power"].merge(pub["power/counts"], on=["group", "n_pre", "n_post"])
    assert np.allclose(power["baseline"] * power["n_pre"], power["starts"], equal_nan=True)
    assert _rounded(power["starts"]) and _rounded(counts["starts"])
    # an evaluated change's detectable ratio is from its fitted model's standard error (issue
    # 17: the single-series design gave 0.68 of it), not from the baseline alone
    fitted = power.dropna(subset=["se"])
    assert len(fitted) and np.allclose(
        fitted["mde"], [st.power.mde_from_se(se, alpha=pub.context["alpha"])
                        for se in fitted["se"]])
    ctl = pub["controlled/C2"]
    expected = 100 * ctl["y"] / (ctl["pre_total"] / ctl["pre_months"])
    shown = ctl["index"].notna()
    assert np.allclose(ctl.loc[shown, "index"], expected[shown])
    assert ctl.loc[ctl["y"].isna() | (ctl["pre_total"] < 50), "index"].isna().all()


def test_run_charts_only_where_no_month_is_suppressed(pub):
    for name in (n for n in pub if n.startswith("series/")):
        cid = name.split("/", 1)[1]
        if pub[f"spc/{cid}"] is not None:
            assert pub[name]["y"].notna().all(), cid
            assert "y" not in pub[f"spc/{cid}"]
    assert pub["spc/C2"] is None and pub["spc_limits/C2"] is None


def test_results_and_key_findings_hold_only_protected_counts(pub, tmp_path):
    path = o.record(pub, tmp_path / "results.json")
    rows = json.loads(path.read_text())["estimates"]
    assert rows and _rounded([r["n"] for r in rows if r.get("n") is not None])
    findings = (tmp_path / "key_findings.md").read_text()
    assert not re.search(r"\b[1-7] (events )?(before|after)\b", findings)


def test_an_estimate_held_back_is_said_not_drawn(pub, monkeypatch):
    """When the ACRO rule blanks a model estimate (too few events or months), the section says
    so instead of printing 'nan'."""
    shown: list[str] = []
    monkeypatch.setattr(style, "display", lambda obj: shown.append(str(getattr(obj, "data", obj))))
    blank = pub["its/C2"].assign(value=np.nan, lower=np.nan, upper=np.nan)
    held = dataclasses.replace(pub, frames={**pub.frames, "its/C2": blank})
    o.show_its(held, "C2")
    assert len(shown) == 1 and "is not shown: too few events" in shown[0] and "nan" not in shown[0]


def test_months_of_a_side_with_a_suppressed_total_are_not_published():
    """Seven months of 1 DP start after a change (a total of 7, suppressed): shown as [c], each
    at least 1, they would pin the hidden total and each month at exactly 1."""
    series = pd.DataFrame({"time": range(12), "post": [0] * 5 + [1] * 7,
                           "y": [10, 12, 9, 11, 10] + [1] * 7})
    rules = default_rules(5)
    assert hidden_sides(series, "new_dp_starts", rules) == [1]
    shown = without_sides(series, hidden_sides(series, "new_dp_starts", rules))
    assert shown["post"].eq(0).all() and len(shown) == 5
    assert hidden_sides(series.assign(y=[10] * 12), "new_dp_starts", rules) == []


def test_controlled_months_of_an_arms_suppressed_side_are_left_out():
    """Six months of one DP start each under a suppressed before-total (6, so at most 7 to a
    reader) would each be narrowed to 1 or 2: those months are not published, the others are."""
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    series = pd.concat([pd.DataFrame({"month": months, "arm": arm, "post": [0] * 6 + [1] * 6,
                                      "y": y}) for arm, y in
                        (("target", [1] * 6 + [9] * 6), ("comparison", [20] * 12))])
    shown, gone = _controlled_shown(_controlled(series), default_rules(5))
    assert gone == [("target", 0)]
    assert len(shown) == 18 and not ((shown["arm"] == "target") & (shown["post"] == 0)).any()
