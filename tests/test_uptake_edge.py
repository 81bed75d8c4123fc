"""Notebook 01_uptake display functions on edge cases: optional fields missing, one ethnic
group, a group with no DP recipients, no one at all -- a statement, never an exception."""

from __future__ import annotations

import dataclasses

import matplotlib
import pandas as pd
import pytest

import evalkit
from evalkit.analyses import uptake as u
from evalkit.analyses.uptake.publish import SPECS
from evalkit.report import style
from evalkit.report.publication import publish
from evalkit.synth.generator import synthesise

matplotlib.use("Agg")
OPTIONAL = ["preferred_language", "interpreter_required", "dp_offered", "dp_requested_date",
            "dp_first_payment_date", "dp_managed_by", "dp_used_for", "weekly_budget",
            "planned_hours", "has_unpaid_carer", "area_code"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return evalkit.load(synthesise(tmp_path_factory.mktemp("leic") / "data", scale=0.2, seed=2))


def show_all(res: u.Uptake) -> None:
    """Every display call the notebook makes, on the publication of `res`."""
    pub = u.publish(res)
    for f in (u.show_key_findings, u.show_quality, u.show_coverage, u.show_missing,
              u.show_sensitivity, u.show_uptake, u.show_population_uptake, u.show_language,
              u.show_interpreter, u.show_isr, u.show_odds, u.show_which_measure,
              u.show_intersection, u.show_offers, u.show_setup, u.show_continuation,
              u.show_ended, u.show_carer, u.show_funnel, u.show_areas_outside, u.show_methods):
        f(pub)
    for col in ("dp_managed_by", "dp_used_for"):
        u.show_mix(pub, col)
    for col in ("weekly_budget", "planned_hours"):
        u.show_plan_size(pub, col)
    for m in ("uptake", "new_starts"):
        u.show_trend(pub, m)


def _subset(data, keep):
    """The Dataset with support_episodes replaced by `keep`."""
    return dataclasses.replace(data, support_episodes=keep)


def test_optional_fields_missing(data, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(style, "display", lambda obj: shown.append(str(getattr(obj, "data", ""))))
    bare = data.support_episodes.drop(columns=OPTIONAL)
    res = u.analyse(_subset(data, bare), lookback=2)
    show_all(res)
    said = " ".join(shown)
    assert "no preferred_language field" in said and "no dp_offered field" in said
    assert res.offers is None
    assert u.estimates(u.publish(res))["name"].eq("uptake_odds_ratio").any()


def test_one_group_no_dp_group_and_nobody(data):
    ep = data.support_episodes

    white = ep[ep["ethnic_group_broad"] == "White"]
    res = u.analyse(_subset(data, white), lookback=2)
    show_all(res)
    assert res.odds[res.odds["factor"] == "group"].empty
    assert any("Only one ethnic group" in s for s in u.key_findings(u.publish(res)))

    no_dp_black = ep[~((ep["ethnic_group_broad"] == "Black") & ep["has_dp"].fillna(False))]
    res = u.analyse(_subset(data, no_dp_black), lookback=2)
    show_all(res)
    black = res.odds[(res.odds["factor"] == "group") & (res.odds["group"] == "Black")]
    assert black["value"].isna().all() and black["note"].str.contains("nobody").all()

    res = u.analyse(_subset(data, ep.iloc[:0]), period_end="2026-03-31", lookback=2)
    show_all(res)
    assert "nothing to report" in u.key_findings(u.publish(res))[0]


def test_publication_holds_results_not_people(data):
    res = u.analyse(data, lookback=2)
    pub = u.publish(res)
    frames = {name: pub[name] for name in pub if pub[name] is not None}
    assert {"overall", "isr/group", "odds/broad", "trend", "quality"} <= set(frames)
    assert not [name for name, f in frames.items() if "person_id" in f.columns]
    assert not [name for name, f in frames.items() if f is res.snap]
    assert pub["overall"]["people"].iloc[0] == 5 * ((len(res.snap) + 2) // 5)  # rounded
    assert set(pub.describe()["frame"]) == set(pub)


def test_trend_with_its_first_quarter_wholly_hidden_is_drawn(monkeypatch):
    """A quarter in which every group's starts are suppressed has no column after the pivot:
    the chart and its alt text must still be drawn (City of London, synthetic England seed 1)."""
    quarters = pd.to_datetime(["2023-06-30", "2023-09-30", "2023-12-31"])
    rows = [{"measure": "new_starts", "ethnic_group_broad": grp, "quarter": q, "people": 400,
             "dp": 100, "starts": 2 if i == 0 else 40, "value": 5.0 + i, "lower": 4.0 + i,
             "upper": 6.0 + i} for grp in ("Asian", "White") for i, q in enumerate(quarters)]
    pub = publish("01_uptake", {"trend": pd.DataFrame(rows).assign(conf=0.95)},
                  {"group_col": "ethnic_group_broad", "min_cell": 5, "reference": "White",
                   "la_code": "E09000001", "place": "City of London"},
                  specs={"trend": SPECS["trend"]})
    assert pub["trend"]["value"].isna().sum() == 2  # starts of 2 suppressed, so their rates
    alts = []
    monkeypatch.setattr(style, "show", lambda fig, alt: alts.append(alt))
    u.show_trend(pub, "new_starts")
    assert len(alts) == 1 and "quarters ending" in alts[0]
