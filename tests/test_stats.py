"""evalkit.stats: edge cases a council meets, input validation and tidy output.

Expected values are worked by hand or from closed forms (scipy), never from the functions
themselves; the published reference cases are in test_stats_reference.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats as st

from evalkit import stats
from evalkit.stats import glm

TIDY = ["value", "lower", "upper", "conf", "method", "note"]


def counts(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


# ---------------------------------------------------------------- tidy output, grouping


def test_proportion_sums_within_by_and_keeps_input():
    df = counts(la=["A", "A", "B"], dp=[3, 2, 0], people=[10, 10, 4])
    before = df.copy()
    out = stats.proportion(df, "dp", "people", by="la")
    pd.testing.assert_frame_equal(df, before)
    assert list(out.columns) == ["la", "dp", "people", *TIDY]
    assert out["dp"].tolist() == [5, 0] and out["people"].tolist() == [20, 4]
    assert out["value"].tolist() == [0.25, 0.0]


def test_without_by_each_row_is_a_group():
    df = counts(dp=[1, 2], people=[4, 8])
    out = stats.proportion(df, "dp", "people")
    assert len(out) == 2 and out["value"].tolist() == [0.25, 0.25]


def test_by_list_of_columns():
    df = counts(la=["A", "A", "B"], band=["18-64", "65-74", "18-64"], dp=[1, 2, 3],
                people=[5, 5, 5])
    out = stats.rate(df, "dp", "people", by=["la", "band"], multiplier=1)
    assert out[["la", "band"]].to_numpy().tolist() == [["A", "18-64"], ["A", "65-74"],
                                                       ["B", "18-64"]]


# ---------------------------------------------------------------- proportion edge cases


def test_zero_numerator_has_zero_lower_and_wilson_upper():
    out = stats.proportion(counts(x=[0], n=[20]), "x", "n").iloc[0]
    z = st.norm.ppf(0.975)
    assert out["value"] == 0 and out["lower"] == 0
    assert out["upper"] == pytest.approx(z**2 / (20 + z**2))  # Wilson at x = 0
    assert out["note"] == ""


def test_numerator_equal_to_denominator():
    out = stats.proportion(counts(x=[7], n=[7]), "x", "n").iloc[0]
    z = st.norm.ppf(0.975)
    assert out["value"] == 1 and out["upper"] == 1
    assert out["lower"] == pytest.approx(7 / (7 + z**2))


@pytest.mark.parametrize("conf", [0.95, 0.998])
@pytest.mark.parametrize("multiplier", [1, 100])
def test_wilson_limits_are_exact_at_the_boundaries(conf, multiplier):
    # statsmodels' closed form rounds them for about a quarter of these n (at 95%: upper limit
    # 0.9999999999999999 for 10 of 10, lower 5.6e-17 for 0 of 3); they are exactly 1 and 0
    n = np.arange(1, 201)
    full = stats.proportion(counts(x=n, n=n), "x", "n", conf=conf, multiplier=multiplier)
    none = stats.proportion(counts(x=0 * n, n=n), "x", "n", conf=conf, multiplier=multiplier)
    assert (full["upper"] == multiplier).all() and (full["value"] == multiplier).all()
    assert (none["lower"] == 0).all() and (none["value"] == 0).all()
    assert (full["lower"] < multiplier).all() and (none["upper"] > 0).all()


def test_every_interval_holds_its_estimate_on_a_grid_of_counts():
    n = np.repeat(np.arange(1, 60), np.arange(1, 60) + 1)
    x = np.concatenate([np.arange(k + 1) for k in range(1, 60)])
    df = counts(x=x, n=n)
    frames = [stats.proportion(df, "x", "n"), stats.rate(df, "x", "n"),
              stats.rate(df, "x", "n", method="exact"),
              stats.funnel_significance(df, "x", "n", statistic="proportion")]
    for out in frames:
        assert ((out["lower"] <= out["value"]) & (out["value"] <= out["upper"])).all()


def test_tiny_denominator():
    out = stats.proportion(counts(x=[1], n=[1]), "x", "n", multiplier=100).iloc[0]
    z = st.norm.ppf(0.975)
    assert out["value"] == 100
    assert out["lower"] == pytest.approx(100 / (1 + z**2))


def test_zero_denominator_gives_nan_with_note():
    out = stats.proportion(counts(x=[0], n=[0]), "x", "n").iloc[0]
    assert np.isnan(out["value"]) and np.isnan(out["lower"])
    assert out["note"] == "n is 0: no proportion"


def test_missing_values_give_nan_with_note():
    df = counts(la=["A", "A", "B"], x=[1, np.nan, 2], n=[5, 5, 5])
    out = stats.proportion(df, "x", "n", by="la")
    assert np.isnan(out.loc[0, "value"]) and out.loc[0, "note"] == "x missing"
    assert out.loc[1, "value"] == 0.4 and out.loc[1, "note"] == ""


def test_group_with_no_rows_kept_with_note():
    groups = pd.Categorical(["Asian", "Asian"], categories=["Asian", "Black"])
    df = pd.DataFrame({"group": groups, "x": [1, 2], "n": [4, 6]})
    out = stats.proportion(df, "x", "n", by="group")
    assert out["group"].tolist() == ["Asian", "Black"]
    assert out.loc[0, "value"] == 0.3
    assert np.isnan(out.loc[1, "value"]) and out.loc[1, "note"] == "no rows in this group"


# ---------------------------------------------------------------- rate, mean


def test_rate_zero_events_exact_interval():
    out = stats.rate(counts(x=[0], n=[1000]), "x", "n", multiplier=1000).iloc[0]
    assert out["lower"] == 0 and out["method"] == "Exact"
    assert out["upper"] == pytest.approx(-np.log(0.025))  # exact upper for 0 events per 1


def test_rate_switches_to_byars_at_ten():
    out = stats.rate(counts(x=[9, 10], n=[100, 100]), "x", "n", multiplier=1)
    assert out["method"].tolist() == ["Exact", "Byars"]


def test_mean_single_value_has_no_interval():
    out = stats.mean(counts(g=["a", "a", "b"], v=[1.0, 3.0, 5.0]), "v", by="g")
    assert out.loc[0, "value"] == 2.0
    half = st.t.ppf(0.975, 1) * np.sqrt(2) / np.sqrt(2)
    assert out.loc[0, "upper"] == pytest.approx(2 + half)
    assert np.isnan(out.loc[1, "lower"]) and "fewer than 2 values" in out.loc[1, "note"]


def test_mean_leaves_out_missing_and_says_so():
    out = stats.mean(counts(v=[1.0, np.nan, 3.0]), "v").iloc[0]
    assert out["n"] == 2 and out["value"] == 2.0 and out["note"] == "1 missing v left out"


# ---------------------------------------------------------------- dsr, isr


def test_dsr_equals_crude_rate_when_one_band():
    df = counts(x=[20], n=[1000], w=[5000])
    out = stats.dsr(df, "x", "n", "w", multiplier=1000).iloc[0]
    assert out["value"] == pytest.approx(20)
    lo = 20 * (1 - 1 / 180 - st.norm.ppf(0.975) / (3 * np.sqrt(20))) ** 3
    assert out["lower"] == pytest.approx(lo)  # Dobson with one band reduces to Byar's


def test_dsr_fewer_than_ten_events_is_not_given():
    out = stats.dsr(counts(x=[4, 5], n=[100, 100], w=[1, 1]), "x", "n", "w").iloc[0]
    assert np.isnan(out["value"]) and out["note"] == "fewer than 10 events: no DSR"


def test_dsr_zero_population_band_is_noted():
    out = stats.dsr(counts(x=[0, 50], n=[0, 100], w=[1, 1]), "x", "n", "w").iloc[0]
    assert np.isnan(out["value"]) and "n is 0 in a stratum" in out["note"]


def test_dsr_rejects_events_that_do_not_match_persons():
    df = counts(x=[5], n=[100], w=[1], p1=[1], p2=[1])
    with pytest.raises(ValueError, match=r"dsr: x must equal the events .* 1 row\(s\)"):
        stats.dsr(df, "x", "n", "w", persons_with_events={1: "p1", 2: "p2"})


def test_isr_expected_counts_and_exact_small():
    df = counts(x=[2, 1], n=[100, 200], rx=[10, 5], rn=[100, 100])
    out = stats.isr(df, "x", "n", "rx", "rn").iloc[0]
    assert out["expected"] == pytest.approx(20.0) and out["observed"] == 3
    assert out["value"] == pytest.approx(0.15) and out["method"] == "Exact"
    assert out["upper"] == pytest.approx(st.chi2.ppf(0.975, 8) / 2 / 20)


def test_isr_zero_reference_population_is_an_error():
    with pytest.raises(ValueError, match=r"isr: need rn > 0 .* 1 row\(s\)"):
        stats.isr(counts(x=[1], n=[10], rx=[0], rn=[0]), "x", "n", "rx", "rn")


# ---------------------------------------------------------------- comparisons


def test_compare_proportions_against_reference_group():
    df = counts(la=["A"] * 3 + ["B"] * 2, group=["White", "Asian", "Black", "White", "Asian"],
                x=[30, 10, 0, 20, 5], n=[100, 50, 20, 100, 50])
    out = stats.compare_proportions(df, "x", "n", "group", "White", by="la")
    a = out[(out.la == "A") & (out.group == "Asian")].set_index("measure")
    assert a.loc["difference", "value"] == pytest.approx(0.2 - 0.3)
    assert a.loc["ratio", "value"] == pytest.approx(0.2 / 0.3)
    se = np.sqrt(1 / 10 - 1 / 50 + 1 / 30 - 1 / 100)
    assert a.loc["ratio", "lower"] == pytest.approx(0.2 / 0.3 * np.exp(-1.959964 * se), rel=1e-6)
    black = out[(out.group == "Black") & (out.measure == "ratio")].iloc[0]
    assert black["value"] == 0 and "0.5 added" in black["note"]
    assert black["method"] == "Katz log, 0.5 added"


def test_compare_proportions_missing_reference_in_stratum():
    df = counts(la=["A", "A", "B"], group=["White", "Asian", "Asian"], x=[3, 2, 1],
                n=[10, 10, 10])
    out = stats.compare_proportions(df, "x", "n", "group", "White", by="la")
    b = out[out.la == "B"]
    assert b["value"].isna().all()
    assert (b["note"] == "no reference group rows in this stratum").all()


def test_ratio_interval_runs_to_zero_or_infinity_when_a_count_is_zero():
    # Katz with 0.5 added alone gives 0.015 to 4.0 for 0 of 2221 against 63 of 69923, an interval
    # that misses the ratio 0 (Hartlepool's Asian adults as PAs, synthetic England, seed 1)
    df = counts(group=["White", "Asian", "Black"], x=[63, 0, 2], n=[69923, 2221, 1086])
    out = stats.relative_likelihood(df, "x", "n", "group", "White").set_index("group")
    assert out.loc["Asian", ["value", "lower"]].tolist() == [0, 0]
    assert out.loc["Asian", "upper"] == pytest.approx(4.0045, rel=1e-4)
    assert 0 < out.loc["Black", "lower"] < out.loc["Black", "value"] < out.loc["Black", "upper"]
    none_in_reference = counts(group=["White", "Asian"], x=[0, 3], n=[50, 40])
    ratio = stats.compare_proportions(none_in_reference, "x", "n", "group", "White")
    ratio = ratio[ratio["measure"] == "ratio"].iloc[0]
    assert ratio["value"] == np.inf and ratio["upper"] == np.inf and ratio["lower"] > 0


def test_relative_likelihood_is_ratio_of_likelihoods():
    df = counts(group=["White British", "Black African"], appointed=[40, 10],
                shortlisted=[100, 50])
    out = stats.relative_likelihood(df, "appointed", "shortlisted", "group", "White British")
    assert out["value"].iloc[0] == pytest.approx(0.2 / 0.4)
    assert out["lower"].iloc[0] < 0.5 < out["upper"].iloc[0]


def test_unknown_reference_is_an_error():
    df = counts(group=["White", "Asian"], x=[1, 1], n=[2, 2])
    with pytest.raises(ValueError, match="relative_likelihood: reference 'white' is not a value"):
        stats.relative_likelihood(df, "x", "n", "group", "white")


# ---------------------------------------------------------------- did


def test_did_recovers_known_effect_exactly():
    cells = counts(treated=[0, 0, 1, 1] * 2, post=[0, 1, 0, 1] * 2,
                   y=[1.0, 2.0, 3.0, 7.0, 1.2, 2.2, 3.2, 7.2])
    out = stats.did(cells, "y", "treated", "post").iloc[0]
    assert out["value"] == pytest.approx((7 - 3) - (2 - 1))
    assert out["n"] == 8 and np.isnan(out["n_clusters"])
    flags = cells.assign(treated=cells.treated.astype(bool), post=cells.post.astype("boolean"))
    assert stats.did(flags, "y", "treated", "post")["value"].iloc[0] == pytest.approx(3.0)


def test_did_by_fits_one_model_per_group():
    cells = counts(treated=[0, 0, 1, 1] * 4, post=[0, 1, 0, 1] * 4,
                   g=["a"] * 8 + ["b"] * 8,
                   y=[1, 2, 3, 7, 1.2, 2.2, 3.2, 7.2, 1, 1, 1, 1, 1.1, 1.1, 1.1, 1.1])
    out = stats.did(cells, "y", "treated", "post", by="g")
    assert out["g"].tolist() == ["a", "b"]
    assert_allclose(out["value"], [3.0, 0.0], atol=1e-12)


def test_did_rejects_non_binary_indicator():
    df = counts(y=[1.0, 2.0], t=[0, 2], p=[0, 1])
    with pytest.raises(ValueError, match=r"did: t must be 0/1 .* 1 row\(s\)"):
        stats.did(df, "y", "t", "p")


def test_did_needs_every_cell():
    df = counts(y=[1.0, 2.0, 3.0], t=[0, 0, 1], p=[0, 1, 0])
    with pytest.raises(ValueError, match="did: the design is not full rank"):
        stats.did(df, "y", "t", "p")


# ---------------------------------------------------------------- workforce


def test_dissimilarity_index_by_hand_and_reproducible():
    df = counts(la=["A"] * 3 + ["B"] * 2, group=["a", "b", "c", "a", "b"],
                pa=[50, 30, 20, 10, 10], dp=[25, 25, 50, 10, 10])
    out = stats.dissimilarity_index(df, "pa", "dp", by="la", n_boot=200, seed=1)
    # A: 0.5 * (|0.5-0.25| + |0.3-0.25| + |0.2-0.5|) = 0.3; B: identical shares
    assert_allclose(out["value"], [0.3, 0.0], atol=1e-12)
    assert out["categories"].tolist() == [3, 2]
    assert (out["lower"] <= out["upper"]).all()
    again = stats.dissimilarity_index(df, "pa", "dp", by="la", n_boot=200, seed=1)
    pd.testing.assert_frame_equal(out, again)


def test_dissimilarity_index_zero_total_noted():
    df = counts(group=["a", "b"], pa=[0, 0], dp=[3, 4])
    out = stats.dissimilarity_index(df, "pa", "dp", n_boot=50).iloc[0]
    assert np.isnan(out["value"]) and out["note"] == "pa or dp totals 0: no index"


def test_diversity_index_by_hand():
    df = counts(g=["x", "x", "y"], n=[50, 50, 7])
    out = stats.diversity_index(df, "n", by="g", n_boot=100)
    assert_allclose(out["value"], [0.5, 0.0], atol=1e-12)


# ---------------------------------------------------------------- funnels


def test_funnel_significance_labels_outliers():
    # baseline 0.375; 99.8% limits at n = 1000 are 0.375 -/+ 3.09 * 0.0153 = 0.328 to 0.422
    df = counts(la=list("ABCD"), x=[400, 300, 410, 390], n=[1000, 1000, 1000, 1000])
    out = stats.funnel_significance(df, "x", "n", statistic="proportion")
    at998 = out[out.conf == 0.998].set_index(df["la"])
    assert at998.loc["B", "significance"] == "lower"
    assert at998.loc["A", "significance"] == "similar"


def test_funnel_dsr_small_counts_not_assessed():
    df = counts(x=[5, 400, 300], r=[50.0, 100.0, 90.0])
    out = stats.funnel_significance(df, "x", statistic="rate", rate="r", rate_type="dsr",
                                    multiplier=1e5)
    first = out.loc[0]
    assert first["significance"].isna().all()
    assert first["note"].str.startswith("fewer than 10 events").all()


def test_funnel_by_gives_one_funnel_per_group():
    df = counts(g=["a", "a", "b", "b"], x=[10, 20, 30, 40], n=[100, 200, 100, 100])
    lim = stats.funnel_limits(df, "x", "n", statistic="proportion", by="g", points=10)
    assert len(lim) == 2 * 10 * 2
    assert_allclose(lim.groupby("g")["baseline"].first(), [0.1, 0.35])


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("call, match", [
    (lambda d: stats.proportion(d, "x", "missing"),
     r"proportion: column\(s\) \['missing'\] not found"),
    (lambda d: stats.proportion(d, "x", "n", conf=95), "proportion: conf must be .* not 95"),
    (lambda d: stats.rate(d, "x", "n", multiplier=0), "rate: multiplier must be a number > 0"),
    (lambda d: stats.rate(d, "x", "n", method="wald"), "rate: method must be 'auto'"),
    (lambda d: stats.proportion(d, "label", "n"), "proportion: column 'label' must be numeric"),
    (lambda d: stats.funnel_limits(d, "x", "n", statistic="odds"),
     "funnel_limits: statistic must be 'proportion', 'ratio' or 'rate'"),
    (lambda d: stats.isr(d, "x", "n", "x", "n", kind="odds"), "isr: kind must be"),
])
def test_argument_errors(call, match):
    df = counts(x=[1, 2], n=[5, 5], label=["a", "b"])
    with pytest.raises((ValueError, KeyError, TypeError), match=match):
        call(df)


def test_numerator_above_denominator_names_rows():
    df = counts(dp=[12, 1], clients=[10, 5])
    with pytest.raises(ValueError, match=r"proportion: need dp <= clients; 1 row\(s\) break "
                                         r"this, e.g. \{0: \{'dp': 12, 'clients': 10\}\}"):
        stats.proportion(df, "dp", "clients")


def test_negative_count_names_rows():
    df = counts(x=[1, -2], n=[5, 5])
    with pytest.raises(ValueError, match=r"rate: need x >= 0; 1 row\(s\) .* \{1: "):
        stats.rate(df, "x", "n")


def test_missing_by_key_is_an_error():
    df = counts(g=["a", None], x=[1, 2], n=[5, 5])
    with pytest.raises(ValueError, match=r"proportion: `by` column 'g' has missing values"):
        stats.proportion(df, "x", "n", by="g")


def test_funnel_needs_every_numerator():
    df = counts(x=[1.0, np.nan], n=[5, 5])
    with pytest.raises(ValueError, match=r"funnel_significance: x must be given for every unit"):
        stats.funnel_significance(df, "x", "n", statistic="proportion")


def test_vectorised_across_many_groups_matches_single_rows():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"la": np.repeat(np.arange(50), 4), "n": rng.integers(1, 500, 200)})
    df["x"] = rng.binomial(df["n"], 0.3)
    grouped = stats.proportion(df, "x", "n", by="la")
    sums = df.groupby("la")[["x", "n"]].sum()
    single = stats.proportion(sums.iloc[[7]], "x", "n")
    assert_allclose(grouped.loc[7, ["value", "lower", "upper"]].to_numpy(float),
                    single[["value", "lower", "upper"]].to_numpy(float)[0])


def test_odds_ratio_of_a_sparse_group_is_too_few_to_estimate():
    # Cantonese-like: 3 people, 2 with a DP; the Wald interval would run from 1 to 100 (issue 17)
    cells = pd.DataFrame({"group": ["White", "Asian", "Sparse"], "people": [400, 200, 3],
                          "dp": [100, 60, 2]})
    got = glm.odds_ratios(cells, ["group"], {"group": "White"}).set_index("group")
    assert np.isnan(got.loc["Sparse", "value"]) and "too few" in got.loc["Sparse", "note"]
    assert got.loc["Sparse", "people"] == 3
    assert got.loc["Asian", "value"] == pytest.approx((60 / 140) / (100 / 300))


def test_dissimilarity_of_samples_from_one_composition_is_within_chance():
    # counts [23, 10] against [55, 24]: the same shares; the percentile interval was 0.003-0.21
    df = counts(group=["a", "b"], pa=[23, 10], dp=[55, 24])
    out = stats.dissimilarity_index(df, "pa", "dp", n_boot=500, seed=3).iloc[0]
    assert out["lower"] == 0 and out["value"] <= out["upper"]
    assert out["value"] < out["random"] < out["random_upper"] < 0.3
