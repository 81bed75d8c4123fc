"""Notebook 01's key findings say what its charts and tables say (issue 18): every number a
finding quotes is in the frame of the section it sums up, groups are compared with the stated
reference group, 'the lowest' never hides a group within its interval, and the trend title
says what the lines show."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import evalkit
from evalkit.analyses import uptake as u
from evalkit.analyses.uptake.display_dp import trend_title
from evalkit.analyses.uptake.findings import sourced_findings
from evalkit.report import wording
from evalkit.report.findings import MAX_WORDS, fmt_share
from evalkit.report.publication import Publication
from evalkit.synth.generator import synthesise

#: a number as a sentence writes it: 1,445 / 0.62 / 44.1% / 65%
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?%?")
#: what a finding may quote besides its frame's figures: the date, and the confidence level
EXTRA = {"95%", "31", "2026"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return evalkit.load(synthesise(tmp_path_factory.mktemp("leic") / "data", scale=0.3, seed=1))


@pytest.fixture(scope="module", params=[{}, {"reference_group": "Asian"},
                                        {"group_level": "detailed"}])
def pub(request, data) -> Publication:
    return u.publish(u.analyse(data, lookback=4, **request.param))


def written(frame: pd.DataFrame) -> set[str]:
    """Every way a finding may write a number of `frame`: counts with thousands separators,
    ratios to 2 places, shares as percentages (as fmt_share, or to 1 place)."""
    out = set()
    for v in frame.select_dtypes("number").to_numpy().ravel():
        if pd.notna(v):
            out |= {f"{v:,.0f}", f"{v:.2f}", fmt_share(v), f"{100 * v:.1f}%"}
    return out


def test_every_number_in_a_finding_is_in_the_frame_it_sums_up(pub):
    found = sourced_findings(pub)
    assert 3 <= len(found) <= 6
    for f in found:
        numbers = set(NUMBER.findall(f.text)) - EXTRA
        assert numbers <= written(pub[f.source]), (f.text, f.source)
        assert len(f.text.split()) <= MAX_WORDS


def test_groups_are_compared_with_the_stated_reference(pub):
    ref = pub.context["reference"]
    groups = [f.text for f in sourced_findings(pub)
              if f.source == "odds/group" and "speakers" not in f.text]
    assert groups
    assert all(wording.people(ref) in t or "the reference group" in t for t in groups), groups
    odds = pub["odds/group"]
    assert set(odds.loc[odds["factor"] == "group", "reference"]) == {ref}


def offer_pub(rates: dict[str, tuple[float, float, float, int]]) -> Publication:
    """A Publication whose only group comparison is the offer rate: each group's (share, lower,
    upper, people with an offer recorded)."""
    g = "ethnic_group_broad"
    offers = pd.DataFrame([{g: k, "measure": "offered", "value": v, "lower": lo, "upper": hi,
                            "recorded": n} for k, (v, lo, hi, n) in rates.items()])
    overall = pd.DataFrame({"people": [3570.0], "value": [0.441], "lower": [0.425],
                            "upper": [0.458]})
    odds = pd.DataFrame(columns=["factor", "group", "reference", "value", "lower", "upper",
                                 "conf", "people"])
    return Publication("01_uptake", {"overall": overall, "odds/group": odds,
                                     "offers/group": offers},
                       {"group_col": g, "reference": "White", "min_cell": 5,
                        "place": "Leicester", "period_end": pd.Timestamp("2026-03-31")})


def test_the_lowest_offer_rate_names_every_group_within_its_interval():
    pub = offer_pub({"Black": (0.646, 0.583, 0.704, 240), "Asian": (0.647, 0.622, 0.671, 1445),
                     "Other": (0.72, 0.636, 0.791, 125), "White": (0.80, 0.78, 0.82, 1640)})
    (offer,) = [f.text for f in sourced_findings(pub) if f.source == "offers/group"]
    assert "240 Black people" in offer and "1,445 Asian people" in offer
    assert "similar" in offer and "Other" not in offer
    assert "80% of 1,640 White people" in offer


def test_a_lowest_offer_rate_alone_is_said_to_be_the_lowest():
    pub = offer_pub({"Black": (0.50, 0.44, 0.56, 240), "White": (0.80, 0.78, 0.82, 1640)})
    (offer,) = [f.text for f in sourced_findings(pub) if f.source == "offers/group"]
    assert "the lowest rate" in offer and "similar" not in offer


def trend(values: dict[str, list[float]], width: float = 0.02) -> pd.DataFrame:
    """A trend frame (one row per group and quarter) with intervals of +-`width`."""
    quarters = pd.date_range("2025-03-31", periods=4, freq="QE")
    return pd.DataFrame([{"g": k, "quarter": q, "value": v, "lower": v - width,
                          "upper": v + width} for k, vs in values.items()
                         for q, v in zip(quarters, vs, strict=True)])


def test_trend_title_says_every_group_fell_and_claims_no_narrowing():
    title = trend_title(trend({"White": [0.49, 0.52, 0.53, 0.46],
                                "Mixed": [0.72, 0.65, 0.67, 0.56],
                                "Asian": [0.41, 0.47, 0.48, 0.40]}), "g", "Uptake")
    assert title == ("Uptake fell for Mixed people from Mar 2025 to Dec 2025; every group fell in "
                     "the last quarter")
    assert "narrow" not in title


def test_trend_title_with_no_clear_change():
    title = trend_title(trend({"White": [0.50, 0.51, 0.50, 0.52],
                                "Black": [0.40, 0.42, 0.41, 0.40]}), "g", "Uptake")
    assert title == "Uptake: no group clearly rose or fell from Mar 2025 to Dec 2025"
