"""Notebook 02 publishes only protected figures (issue 14 item 1, /docs/disclosure.md): every count
in every published frame is 0, suppressed or rounded to 5; every share is worked out from the
rounded counts; and the ways in seen on main cannot be replayed from the Publication, results.json
or key findings (a Kaplan-Meier share times the number at risk, stayed + joined = active PAs, a
broad group minus its detailed groups)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit.analyses import pa_market as pm
from evalkit.analyses.pa_market.publish import SPECS
from evalkit.synth.generator import synthesise

SMALL = range(1, 8)  # counts 1 to smallest_shown - 1 (min_cell 5, base 5)


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    """A small council (scale 0.2): many counts of 1 to 7."""
    data = evalkit.load(synthesise(tmp_path_factory.mktemp("protect02") / "data", scale=0.2,
                                   seed=5))
    return pm.analyse(data, n_boot=20)


def published_counts(pub) -> list[tuple[str, str, float]]:
    """(frame, column, value) of every count the Publication holds, as SPECS declares them."""
    out = []
    for name in pub:
        family = name.split("/", 1)[0]
        frame = pub[name]
        if family not in SPECS or frame is None:
            continue
        out += [(name, col, v) for col in SPECS[family].counts for v in frame[col]]
    return out


def test_every_published_count_is_zero_suppressed_or_rounded(market):
    counts = published_counts(pm.publish(market))
    assert len(counts) > 500
    bad = [c for c in counts if not (np.isnan(c[2]) or c[2] == 0 or (c[2] % 5 == 0
                                                                       and c[2] >= 10))]
    assert bad == []
    # and something was protected: suppressed cells and counts moved by rounding
    assert sum(np.isnan(v) for *_, v in counts) > 20


def test_shares_are_worked_out_from_the_rounded_counts(market):
    pub = pm.publish(market)
    pairs = {"filled": ("filled", "followed"), "waiting": ("filled", "followed"),
             "match": ("matched", "checked"), "sources": ("requests", "total"),
             "coverage": ("no_pa_area", "with_area"), "change/all": ("retained", "active_from"),
             "composition/ethnic_group_broad": ("count", "total")}
    for name, (x, n) in pairs.items():
        f = pub[name]
        shown = f[f["value"].notna()]
        assert np.allclose(shown["value"], shown[x] / shown[n]), name
        assert (shown[n] >= 50).all(), name  # no share of fewer than 50 people
        assert f.loc[f[x].isna() | f[n].isna(), "value"].isna().all(), name


def _hospital_example(market) -> pm.Market:
    """The case seen on main: 23 hospital-discharge requests, 2 filled within 7 days (KM
    8.7% of 23 = 2 in the table and key findings), among 200 other requests."""
    n = 223
    durations = pd.DataFrame({
        "days": [3.0, 5.0] + [40.0] * 21 + [20.0] * 200, "to_end": 400.0,
        "filled": True, "outcome": "filled", "language": [False] * 23 + [True] * 60 + [False] * 140,
        "ethnicity": False, "gender": False, "faith": False,
        "hospital_discharge": [True] * 23 + [False] * 200})
    durations["any_preference"] = durations[["language", "ethnicity", "gender", "faith"]].any(
        axis=1)
    assert len(durations) == n
    return dataclasses.replace(
        market, durations=durations,
        waiting=pm.recruitment_waiting(durations), medians=pm.recruitment_medians(durations),
        filled=pm.recruitment_filled_by(durations), cox=pm.recruitment_cox(durations))


def test_time_to_recruit_cannot_give_the_two_requests_filled_within_7_days(market, tmp_path):
    pub = pm.publish(_hospital_example(market))
    hd = pub["filled"].set_index(["group", "days"]).loc[("Hospital discharge", 7)]
    assert hd["followed"] == 25 and np.isnan(hd["filled"]) and np.isnan(hd["value"])
    path = pm.record(pub, str(tmp_path / "results.json"))
    findings = (tmp_path / "key_findings.md").read_text()
    assert "8.7%" not in findings and "hospital" not in findings
    rows = json.loads(path.read_text())["estimates"]
    assert "hospital_discharge:7" not in {r["group"] for r in rows}
    # nowhere does a published share times its published n give back a count of 1 to 7
    exact = [(r["name"], r["group"]) for r in rows if r.get("n") and r["value"] is not None
             and r["name"].endswith(("share", "gap", "retention"))
             and round(r["value"] * r["n"]) in SMALL
             and abs(r["value"] * r["n"] - round(r["value"] * r["n"])) < 1e-6]
    assert exact == []


def test_filled_within_counts_requests_followed_that_long():
    durations = pd.DataFrame({
        "days": [3.0, 10.0, 2.0, 30.0, 5.0], "to_end": [100.0, 100.0, 5.0, 100.0, 100.0],
        "filled": [True, True, True, False, False],
        "outcome": ["filled", "filled", "filled", "withdrawn", "withdrawn"],
        "language": False, "ethnicity": False, "gender": False, "faith": False,
        "hospital_discharge": False, "any_preference": False})
    got = pm.recruitment_filled_by(durations, target_days=(7,), discharge_target_days=7)
    row = got[got["group"] == pm.ALL_REQUESTS].iloc[0]
    # followed 7 days: not the request made 5 days before the end, nor the one withdrawn at 5
    assert (row["followed"], row["filled"]) == (3, 1) and row["value"] == pytest.approx(1 / 3)


def test_change_between_snapshots_publishes_no_exact_difference(market):
    pub = pm.publish(market)
    for by in ("all", "ethnic_group_broad", "language"):
        ch = pub[f"change/{by}"]
        assert "net" not in ch  # joined - left of exact counts
        for col in ("active_from", "active_to", "joiners", "leavers", "retained"):
            v = ch[col].dropna()
            assert ((v == 0) | ((v % 5 == 0) & (v >= 10))).all(), (by, col)


def test_detailed_groups_cannot_be_taken_from_their_broad_group(market):
    """Broad group minus its shown detailed groups (Arab PAs 2, Irish 1, Roma 1 on main): with
    every count rounded on its own, the difference is no longer a count."""
    pub = pm.publish(market)
    broad = pub["composition/ethnic_group_broad"]
    detailed = pub["composition/ethnic_group"]
    small_true = market.composition["ethnic_group"]
    small_true = small_true[small_true["count"].between(1, 7)]
    assert len(small_true) > 0  # the council has such groups
    assert detailed.loc[small_true.index, "count"].isna().all()
    assert ((broad["count"].dropna() % 5) == 0).all() and ((broad["total"] % 5) == 0).all()


def test_representation_is_recomputed_from_protected_counts(market):
    pub = pm.publish(market)
    rep = pub["representation"]
    counts = rep[["x", "n", "ref_x", "ref_n"]].stack()  # NaN: the group is not in one source
    assert len(rep) and len(counts) and ((counts % 5) == 0).all()
    # a group whose PAs are suppressed is left out, never shown as 0 PAs (Mixed in this council)
    comp = pub["composition/ethnic_group_broad"]
    hidden = set(comp.loc[comp["count"].isna() & (comp["source"] == "Active PAs"), "group"])
    assert hidden and not hidden & set(rep["group"])


def test_a_group_whose_filled_requests_are_suppressed_is_not_broken_down_by_source(market):
    """Its sources, each suppressed and so at least 1, would narrow its total."""
    sources = pm.publish(market)["sources"]
    true = market.sources.groupby("group")["total"].first()
    small = set(true[true.between(1, 7)].index)
    assert small and not small & set(sources["group"])
