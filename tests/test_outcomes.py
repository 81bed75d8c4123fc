"""evalkit.outcomes: unit tests and edge cases (planned change, too few months, missing survey
or engagement). The notebook itself is tested in test_outcomes_notebook.py."""

from __future__ import annotations

import dataclasses
import html
import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

import evalkit
from evalkit.analyses import outcomes as o
from evalkit.analyses.outcomes.compute_power import change_power
from evalkit.analyses.outcomes.compute_series import UNSETTLED
from evalkit.analyses.outcomes.findings import quote
from evalkit.report import style
from evalkit.stats import its as itsm
from evalkit.stats import power
from evalkit.synth.generator import synthesise

matplotlib.use("Agg")
SHOWS = (o.show_spc, o.show_its, o.show_controlled, o.show_experience)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return synthesise(tmp_path_factory.mktemp("o03") / "data", scale=0.2, seed=4)


@pytest.fixture(scope="module")
def data(folder):
    return evalkit.load(folder)


def _change(**kw) -> pd.Series:
    base = {"change_id": "X1", "date": pd.Timestamp("2023-01-01"), "name": "Test change",
            "target_groups": "all", "target_teams": None, "status": "implemented"}
    return o.change_log(pd.DataFrame([{**base, **kw}])).iloc[0]


def _show_all(res: o.Outcomes) -> None:
    pub = o.publish(res)
    for f in (o.show_key_findings, o.show_quality, o.show_series, o.show_timeline,
              o.show_planned, o.show_engagement, o.show_power, o.show_methods):
        f(pub)
    for show in SHOWS:
        o.show_each(pub, show)
    for by in ("ethnic group", "preferred language"):
        o.show_experience_by(pub, by)


def test_target_mask_and_words():
    frame = pd.DataFrame({"ethnic_group_broad": ["Asian", "White", "Black", "Asian"],
                          "ethnic_group": ["x", "y", "Black, Black British, Caribbean or "
                                           "African: African", "z"],
                          "preferred_language": ["Gujarati", "English", "Somali", "Urdu"],
                          "team_id": ["T01", "T02", "T01", "T05"]})
    assert o.target_mask(frame, _change()).all()
    assert o.target_mask(frame, _change(target_groups="Asian")).tolist() == [1, 0, 0, 1]
    assert o.target_mask(frame, _change(target_groups="language:somali")).tolist() == [0, 0, 1, 0]
    assert o.target_mask(frame, _change(target_groups="Somali;White")).tolist() == [0, 1, 1, 0]
    teams = _change(target_teams="T01;T02")
    assert o.target_mask(frame, teams).tolist() == [1, 1, 1, 0]
    assert o.target_mask(frame, teams, use_teams=False).all()
    assert o.who(teams) == "people in teams T01, T02"
    assert o.who(_change(target_groups="language:Somali")) == (
        "people whose preferred language is Somali")
    with pytest.raises(ValueError, match="no team_id field"):
        o.target_mask(frame.drop(columns="team_id"), teams)


def test_first_whole_month_follows_mark_change():
    assert o.first_post("2023-01-01") == pd.Timestamp("2023-01-01")
    assert o.first_post("2023-01-15") == pd.Timestamp("2023-02-01")


def test_single_change_fit_equals_its(data):
    """With no other change touching the series, the fit is `its.its` itself."""
    ep = data.support_episodes
    log = o.change_log(data.practice_changes).query("change_id == 'C2'")
    start, end = o.series_bounds(ep)
    fit = o.fit_change(ep, log, log.iloc[0], start=start, end=end)
    assert fit.co_changes == []
    direct = itsm.its(fit.series, "y", "time", "post", month="calendar_month")
    cols = ["value", "lower", "upper", "p_value"]
    np.testing.assert_allclose(fit.result.estimates[cols], direct.estimates[cols], rtol=1e-10)


def test_other_changes_enter_only_in_their_cells(data):
    ep = data.support_episodes
    log = o.change_log(data.practice_changes)
    start, end = o.series_bounds(ep)
    fit = o.fit_change(ep, log, log[log["change_id"] == "C4"].iloc[0], start=start, end=end)
    assert {"C1", "C2"} <= set(fit.co_changes)  # training in some teams, guidance for Asian people
    cells = fit.cells
    for cid in fit.co_changes:
        level = cells[f"{cid}:level_change"]
        inside = cells["cell"].str.split("+").map(lambda ids, c=cid: c in ids).astype(bool)
        assert (level[~inside] == 0).all() and (level[inside] == 1).any()
    terms = set(fit.result.estimates["term"])
    assert {"level_change", "slope_change", "C1:level_change", "C2:slope_change"} <= terms
    cf = fit.result.counterfactual
    assert len(cf) == len(fit.series)  # cells summed per month
    np.testing.assert_array_equal(cf["observed"], fit.series["y"])
    pre = cf["post"] == 0
    assert np.allclose(cf.loc[pre, "counterfactual"], cf.loc[pre, "fitted"])


def test_planned_and_short_changes_give_statements(data):
    ep = data.support_episodes
    log = o.change_log(data.practice_changes)
    start, end = o.series_bounds(ep)
    planned = _change(status="planned", date=pd.Timestamp("2027-01-01"))
    assert "planned" in o.fit_change(ep, log, planned, start=start, end=end).shortfall
    late = o.fit_change(ep, log, _change(date=pd.Timestamp("2025-12-10")), start=start, end=end)
    assert late.result is None and "found" in late.shortfall and "3 after" in late.shortfall
    early = o.fit_change(ep, log, _change(date=pd.Timestamp("2019-06-01")), start=start, end=end)
    assert early.result is None and "before the data start" in early.shortfall
    few = o.fit_change(ep, log, _change(target_groups="language:Somali"), start=start, end=end)
    assert few.result is None and "at least 10" in few.shortfall


@pytest.mark.parametrize("outcome", ["dp_offer_rate", "setup_days"])
def test_other_outcomes_fit(data, outcome):
    ep = data.support_episodes
    log = o.change_log(data.practice_changes)
    start, end = o.series_bounds(ep)
    fit = o.fit_change(ep, log, log[log["change_id"] == "C4"].iloc[0], outcome=outcome,
                       start=start, end=end)
    assert fit.result is not None, fit.shortfall
    family = o.OUTCOMES[outcome][1]
    assert fit.result.family == family
    if outcome != "setup_days":
        assert (fit.series["y"] <= fit.series["n"]).all()
    assert o.spc_points(fit) is not None


def _fit(data, change_id: str, outcome: str = "new_dp_starts") -> o.ChangeFit:
    ep, log = data.support_episodes, o.change_log(data.practice_changes)
    start, end = o.series_bounds(ep)
    return o.fit_change(ep, log, log[log["change_id"] == change_id].iloc[0], outcome=outcome,
                        start=start, end=end)


def test_dp_share_is_not_fitted_and_says_why(data):
    # a stock: residual lag-1 autocorrelation 0.72 made the ITS flag a placebo in 92% of seeds
    fit = _fit(data, "C4", "dp_share")
    assert fit.result is None and "stock" in fit.shortfall and "new_dp_starts" in fit.shortfall
    assert len(fit.series) and fit.series["y"].le(fit.series["n"]).all()


def test_spc_limits_are_not_recalculated_by_default_nor_from_few_points(data):
    fit = _fit(data, "C4")
    assert o.spc_points(fit)["rebase_group"].nunique() == 1
    post = int(fit.series["post"].sum())
    again = o.spc_points(fit, recalculate=True)["rebase_group"].nunique()
    assert again == (2 if post >= 12 else 1)
    few = dataclasses.replace(fit, series=fit.series[fit.series["month"]
                                                     < fit.change["date"] + pd.DateOffset(
                                                         months=6)])
    assert o.spc_points(few, recalculate=True)["rebase_group"].nunique() == 1


def test_spc_of_rare_events_is_not_drawn(data):
    fit = _fit(data, "C4")
    rare = dataclasses.replace(fit, series=fit.series.assign(y=(fit.series["y"] > 0).astype(int)
                                                              * (fit.series.index % 2)))
    assert rare.series["y"].sum() >= 10 and o.spc_points(rare) is None


def test_controlled_comparison_has_no_plain_did(data):
    # the before/after DiD of the monthly index ignored differing trends: placebo flagged in 40%
    res = o.analyse(data, change_id="C5")
    pub = o.publish(res)
    assert not [name for name in pub.describe()["frame"] if name.startswith("did/")]
    assert not hasattr(res.controls[0], "did")
    assert "trends were parallel" not in quote(pub, "C5")[1]


def test_a_fit_that_does_not_settle_is_a_statement_not_an_error(data, monkeypatch):
    """A change whose model does not settle (`itsm.NotEstimable`, e.g. two changes' terms
    cancelling out in a small council) has no estimate and says why; the others are fitted."""
    fit_its, calls = itsm.its, []

    def unsettled(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # the first change fitted
            raise itsm.NotEstimable("its: the fit does not settle")
        return fit_its(*args, **kwargs)

    monkeypatch.setattr(itsm, "its", unsettled)
    res = o.analyse(data, comparison="none")
    fits = [(f.result, f.shortfall) for f in res.fits]
    assert sum(r is None and s == UNSETTLED for r, s in fits) == 1
    assert sum(r is not None for r, _ in fits) == len(calls) - 1 > 0
    _show_all(res)


def test_survey_scores():
    items = {c: [1, 4, 2] for c in o.ASCOT_ITEMS}
    survey = pd.DataFrame({**items, "info_ease": [5, 2, 1], "satisfaction": [1, 2, 3]})
    got = o.survey_scores(survey)
    assert got["scrqol"].tolist() == [24, 0, 16]  # 8 x 3, 8 x 0, 8 x 2
    assert np.isnan(got["info_ease"].iloc[0]) and got["w"].eq(1).all()
    survey.loc[0, "food_drink"] = np.nan
    assert np.isnan(o.survey_scores(survey)["scrqol"].iloc[0])


def test_unweighted_shift_is_welch():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 2, 40), rng.normal(0, 1, 25)
    got = o.weighted_shift(pd.DataFrame({"m": b, "w": 1.0}), pd.DataFrame({"m": a, "w": 1.0}),
                           "m")
    ci = st.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert got["value"] == pytest.approx(a.mean() - b.mean())
    assert (got["lower"], got["upper"]) == pytest.approx((ci.low, ci.high))
    pooled = np.sqrt((39 * a.var(ddof=1) + 24 * b.var(ddof=1)) / 63)
    assert got["effect_size"] == pytest.approx((a.mean() - b.mean()) / pooled)


def test_unequal_weights_widen_the_interval():
    rng = np.random.default_rng(2)
    before = pd.DataFrame({"m": rng.normal(0, 1, 60), "w": 1.0})
    after = pd.DataFrame({"m": rng.normal(0, 1, 60), "w": 1.0})
    even = o.weighted_shift(before, after, "m")
    uneven = o.weighted_shift(before, after.assign(w=np.r_[np.full(30, 10.0), np.ones(30)]), "m")
    assert uneven["upper"] - uneven["lower"] > even["upper"] - even["lower"]


def test_months_needed_matches_linear_search():
    want = power.its_months_needed(1.3, 20.0, 24)
    assert o.months_needed(1.3, 20.0, 24) == want
    assert o.months_needed(1.01, 0.5, 12) is None


def test_engagement_themes_by_year():
    eng = pd.DataFrame({"date": pd.to_datetime(["2023-03-31", "2023-04-01", "2023-05-01"]),
                        "method": ["group", "interview", "group"],
                        "community": ["Somali"] * 3, "n_people": [4, 6, 2],
                        "theme": ["paperwork"] * 3, "summary": ["a", "b", "c"]})
    got = o.engagement_themes(eng)
    assert got["period"].tolist() == ["2022/23", "2023/24"]
    assert got["people"].tolist() == [4, 8] and got["sessions"].tolist() == [1, 2]
    assert o.engagement_themes(None) is None


def test_analyse_records_truth_names(data, folder, tmp_path):
    res = o.analyse(data)
    pub = o.publish(res)
    est = o.estimates(pub)
    truth = json.loads((folder / "truth.json").read_text())["effects"]
    want = {(e["name"], e["group"]) for e in truth if e["name"] in
            ("its_level_change", "survey_shift") and not e["group"].startswith("C3")}
    assert want <= set(zip(est["name"], est["group"], strict=True))
    assert est["lower"].le(est["value"]).all() and est["value"].le(est["upper"]).all()
    # every change estimate the report shows, each saying its scale (issue 17)
    assert est["scale"].isin(["ratio", "difference"]).all()
    assert {"its_controlled_level_change", "offer_rate_difference"} <= set(est["name"])
    assert est.loc[est["name"] == "survey_shift", "compared"].str.contains("other change").all()
    path = o.record(pub, tmp_path / "results.json")
    doc = json.loads(path.read_text())
    assert doc["notebook"] == "03_outcomes" and doc["parameters"]["outcome"] == "new_dp_starts"
    assert 1 <= len((tmp_path / "key_findings.md").read_text().splitlines()) - 2 <= 6


def test_edge_cases_give_statements_not_exceptions(data, monkeypatch):
    said: list[str] = []
    monkeypatch.setattr(style, "display", lambda obj: said.append(str(getattr(obj, "data", ""))))
    bare = dataclasses.replace(data, survey=None, engagement=None)
    res = o.analyse(bare, change_id="C2", outcome="dp_share", comparison="none")
    _show_all(res)
    text = " ".join(said)
    assert "no survey" in text and "not supplied an engagement table" in text
    assert "No controlled comparison" in text
    log = data.practice_changes.copy()
    log.loc[log["change_id"] == "C5", "status"] = "planned"
    res = o.analyse(dataclasses.replace(data, practice_changes=log))
    assert "C5" not in {f.change["change_id"] for f in res.fits}
    said.clear()
    o.show_planned(o.publish(res))
    placebo = log.set_index("change_id").loc["C5", "name"]
    assert html.escape(placebo) in " ".join(said) and "C5" not in " ".join(said)
    nothing = o.analyse(dataclasses.replace(data, practice_changes=log.iloc[:0]))
    assert "No implemented practice change" in o.key_findings(o.publish(nothing))[0]
    _show_all(nothing)
    with pytest.raises(ValueError, match="not in the practice-change log"):
        o.analyse(data, change_id="C9")
    with pytest.raises(ValueError, match="outcome='uptake' is not a valid value; use one of: "
                       "'new_dp_starts'"):
        o.analyse(data, outcome="uptake")


def test_survey_shift_of_a_change_for_everyone_adjusts_for_another_changes_shift():
    # Asian respondents improve by 2 points after X2 (2023); X4 (2024, everyone) does nothing.
    # Unadjusted, X4's before/after picks up X2's shift; adjusted it does not (issue 17).
    rng = np.random.default_rng(4)
    dates = pd.to_datetime([f"{y}-11-01" for y in range(2021, 2026)]).repeat(200)
    asian = np.tile(np.r_[np.ones(100), np.zeros(100)], 5).astype(bool)
    score = 10 + 2.0 * (asian & (dates >= "2023-01-01")) + rng.normal(0, 1, len(dates))
    items = {c: np.full(len(dates), 2.0) for c in o.ASCOT_ITEMS}
    survey = pd.DataFrame({**items, "survey_date": dates, "satisfaction": score,
                           "info_ease": 2.0, "ethnic_group_broad": np.where(asian, "Asian",
                                                                            "White")})
    log = o.change_log(pd.DataFrame([
        {"change_id": "X2", "date": pd.Timestamp("2023-01-01"), "name": "a",
         "target_groups": "Asian", "target_teams": None, "status": "implemented"},
        {"change_id": "X4", "date": pd.Timestamp("2024-04-01"), "name": "b",
         "target_groups": "all", "target_teams": None, "status": "implemented"}]))
    x4 = log[log["change_id"] == "X4"].iloc[0]
    plain = o.survey_shifts(survey, x4).set_index("measure").loc["satisfaction"]
    adjusted = o.survey_shifts(survey, x4, log=log).set_index("measure").loc["satisfaction"]
    assert plain["lower"] > 0.3
    assert adjusted["lower"] < 0 < adjusted["upper"] and abs(adjusted["value"]) < 0.2
    assert "X2" in adjusted["compared"] and "unadjusted" in plain["compared"]
    x2 = o.survey_shifts(survey, log.iloc[0], log=log).set_index("measure").loc["satisfaction"]
    assert x2["lower"] < 2.0 < x2["upper"]


def test_power_of_a_change_uses_its_fitted_model(data):
    # C4 shares its series with C1 and C2: the fitted SE, not a single-series design (issue 17)
    fit = _fit(data, "C4")
    got = change_power(fit)
    se = float(fit.estimate("level_change")["se"])
    assert got["se"] == se and got["mde"] == pytest.approx(power.mde_from_se(se))
    simple = power.its_mde(got["baseline"], fit.result.n_pre, fit.result.n_post,
                           dispersion=got["dispersion"])
    assert got["mde"] > simple


def test_survey_shift_of_a_handful_of_respondents_says_too_few(data):
    log = o.change_log(data.practice_changes)
    got = o.survey_shifts(data.survey, log[log["change_id"] == "C3"].iloc[0], log=log)
    few = got[got[["n_before", "n_after"]].min(axis=1) < 10]
    assert len(few) and few["value"].isna().all()
    assert few["compared"].str.contains("too few respondents").all()


def test_a_shift_the_answering_respondents_cannot_tell_apart_is_not_estimated() -> None:
    """The design is of full rank over everyone surveyed, but among those who answered one
    measure another change's step equals the shift: the shift was then arbitrary (statsmodels
    warned the design was rank-deficient and a value was reported). Now it is not estimated;
    a design those respondents can tell apart gives the plain weighted least-squares shift."""
    from evalkit.analyses.outcomes.compute_experience import adjusted_shift

    n = 60
    rng = np.random.default_rng(1)
    after = (np.arange(n) >= 30).astype(float)
    design = pd.DataFrame({"const": 1.0, "shift": after, "group:x": np.arange(n) % 2 * 1.0,
                           "C9": np.maximum(after, np.arange(n) == 0)})
    measure = rng.normal(size=n)
    measure[0] = np.nan  # the only respondent where C9 and the shift differ did not answer
    values = pd.DataFrame({"m": measure, "w": rng.uniform(0.5, 2, n)})
    assert np.isnan(list(adjusted_shift(values, design, "m").values())).all()
    shift = adjusted_shift(values, design.drop(columns="C9"), "m")
    assert shift["lower"] < shift["value"] < shift["upper"]


def test_a_respondent_alone_in_a_column_is_left_out_without_a_warning() -> None:
    """One respondent alone in another change's step has leverage 1: HC3 divided by zero
    (statsmodels warned, in the notebook too) and the interval could be infinite or arbitrary.
    That respondent tells nothing of the shift, so it and its column are left out: the same
    shift as the design without them, and no warning."""
    import warnings

    from evalkit.analyses.outcomes.compute_experience import adjusted_shift

    n = 40
    rng = np.random.default_rng(1)
    design = pd.DataFrame({"const": 1.0, "other": (np.arange(n) == 5) * 1.0,
                           "shift": (np.arange(n) >= 20) * 1.0})
    values = pd.DataFrame({"m": rng.normal(size=n), "w": rng.uniform(0.5, 2, n)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = adjusted_shift(values, design, "m")
    without = adjusted_shift(values.drop(index=5), design.drop(index=5, columns="other"), "m")
    assert got == pytest.approx(without) and got["lower"] < got["value"] < got["upper"]


def test_a_log_of_planned_changes_only_publishes_and_says_so(data):
    # no change selected leaves the changes' shortfall all missing: still text, not a number
    log = data.practice_changes.assign(status="planned")
    pub = o.publish(o.analyse(dataclasses.replace(data, practice_changes=log)))
    assert o.key_findings(pub) == [f"No implemented practice change is logged for "
                                   f"{pub.context['place']}; {len(log)} planned change(s) are "
                                   "listed."]
