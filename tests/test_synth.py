"""The synthetic data generator: deterministic, loadable, and its planted effects recoverable.

Recovery tests fit plain statsmodels models to the generated rows at large scale (one
Leicester folder at scale 25), so they prove the generator before any notebook exists. Several
coefficients are checked per fit, so the intervals are simultaneous 95% (Bonferroni): a
per-coefficient 95% interval would miss one of eight truths in a third of seeds by design.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

import evalkit
from evalkit.data import codes
from evalkit.synth.changes import CHANGES
from evalkit.synth.generator import synthesise

PERIOD_END = pd.Timestamp("2026-03-31")
PLANTED_LANGUAGES = ("Somali", "Gujarati", "Bengali")


def _read(folder: Path, table: str) -> pd.DataFrame:
    """Read one generated table (CSV or Parquet) as written, without the loader."""
    for path in sorted(folder.glob(f"{table}.*")):
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    raise FileNotFoundError(table)


def _truth(folder: Path) -> dict[tuple[str, str], float]:
    effects = json.loads((folder / "truth.json").read_text())["effects"]
    return {(e["name"], e["group"]): e["value"] for e in effects}


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Leicester at 25 times its size (~285k episodes)."""
    return synthesise(tmp_path_factory.mktemp("large"), profile="leicester", scale=25, seed=7)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    a = _files(synthesise(tmp_path / "a", scale=0.3, seed=3))
    b = _files(synthesise(tmp_path / "b", scale=0.3, seed=3))
    c = _files(synthesise(tmp_path / "c", scale=0.3, seed=4))
    assert a == b
    assert a.keys() == c.keys()
    assert a["support_episodes.csv"] != c["support_episodes.csv"]
    assert {"truth.json", "pa_register/agency_a.csv", "pa_requests.csv", "survey.csv",
            "population.csv", "practice_changes.csv", "engagement.csv"} <= a.keys()


def _assert_clean(folder: Path) -> evalkit.data.load.Dataset:
    """Every row kept; the only non-kept reason is a PA listed by a second agency (by design)."""
    ds = evalkit.load(folder)
    dropped = ds.quality[ds.quality["reason"] != "kept"]
    assert set(dropped["reason"]) <= {"duplicate_pa_listing"}, dropped
    assert ds.warnings == []
    return ds


def test_leicester_loads_with_no_exclusions(tmp_path: Path) -> None:
    ds = _assert_clean(synthesise(tmp_path, profile="leicester", scale=1, seed=1))
    people = ds.support_episodes
    assert set(people["la_code"]) == {"E06000016"}
    ongoing = people[people["end_date"].isna()]
    assert 4_500 <= len(ongoing) <= 5_500  # A4: ~5,000 on LTS at 31 March
    assert 9_000 <= len(people) <= 13_000
    community = ongoing[ongoing["service_type"] == "Long Term Support: Community"]
    assert 0.40 <= community["has_dp"].mean() <= 0.50  # D6: ~45%
    assert people["area_code"].nunique() == 40
    assert people["team_id"].nunique() == 8
    # both NHS codes and ONS labels are written, and both map to the same groups
    written = _read(tmp_path, "support_episodes")["ethnicity"]
    assert written.isin(list(codes.NHS_ETHNIC_CODES)).mean() > 0.3
    assert written.isin(list(codes.ETHNIC_GROUPS)).mean() > 0.2
    # an extract holds nothing after its own date, and the snapshot spans every age band
    dates = people.select_dtypes("datetime").stack()
    assert dates.max() <= PERIOD_END
    bands = codes.age_band(community["birth_date"], PERIOD_END).value_counts(normalize=True)
    assert (bands[["18-64", "65-74", "75-84", "85+"]] > 0.05).all(), bands


def test_england_loads_with_no_exclusions(tmp_path: Path) -> None:
    folder = synthesise(tmp_path, profile="england", scale=0.01, seed=1)
    assert (folder / "support_episodes.parquet").exists()
    ds = _assert_clean(folder)
    assert ds.support_episodes["la_code"].nunique() == 153
    assert set(ds.survey["la_code"]) == set(ds.support_episodes["la_code"])


def _uptake_cells(folder: Path) -> pd.DataFrame:
    """Aggregated cells of the snapshot population (ongoing community LTS at period_end)."""
    e = _read(folder, "support_episodes")
    e = e[e["end_date"].isna() & (e["service_type"] == "Long Term Support: Community")]
    birth = pd.to_datetime(e["birth_year_month"] + "-15")
    lang = e["preferred_language"].fillna("Not recorded")
    cells = pd.DataFrame({
        "broad": codes.ethnic_group_broad(codes.ethnic_group(e["ethnicity"])).to_numpy(),
        "age": codes.age_band(birth, PERIOD_END).astype(str).to_numpy(),
        "gender": e["gender"].to_numpy(),
        "psr": e["primary_support_reason"].to_numpy(),
        "lang": np.where(lang.isin(["English", "Not recorded", *PLANTED_LANGUAGES]), lang,
                         "Other language"),
        "interp": e["interpreter_required"].astype(str).to_numpy(),
        "dp": e["delivery_mechanism"].isin(codes.DP_MECHANISMS).to_numpy(),
    })
    return cells.groupby(["broad", "age", "gender", "psr", "lang", "interp"], as_index=False).agg(
        dp=("dp", "sum"), n=("dp", "size"))


def test_uptake_odds_ratios_recovered_by_binomial_glm(large: Path) -> None:
    cells = _uptake_cells(large)
    import patsy

    design = patsy.dmatrix(
        "C(broad, Treatment('White')) + C(age) + C(gender) + C(psr)"
        " + C(lang, Treatment('English')) + C(interp, Treatment('False'))", cells,
        return_type="dataframe")
    fit = sm.GLM(np.column_stack([cells["dp"], cells["n"] - cells["dp"]]), design,
                 family=sm.families.Binomial()).fit()
    truth = _truth(large)
    terms = {**{g: f"C(broad, Treatment('White'))[T.{g}]" for g in ("Asian", "Black", "Mixed",
                                                                       "Other")},
             **{f"language:{lang}": f"C(lang, Treatment('English'))[T.{lang}]"
                for lang in PLANTED_LANGUAGES},
             "interpreter:yes": "C(interp, Treatment('False'))[T.True]"}
    # Simultaneous 99.9% intervals (Bonferroni): one seed must not fail by chance, and an
    # interval this wide still excludes a wrong planted value at this scale (SE about 0.04 on
    # the log scale for the ethnic groups, so a bias of 0.15 would show).
    ci = np.exp(fit.conf_int(alpha=0.001 / len(terms)))
    for group, term in terms.items():
        value = truth[("uptake_odds_ratio", group)]
        lo, hi = ci.loc[term]
        assert lo <= value <= hi, (group, value, lo, hi)
        if not group.startswith("language:"):  # languages have only a few hundred speakers
            assert fit.bse[term] < 0.06, (group, fit.bse[term])


def test_recruitment_hazard_ratios_recovered_by_phreg(large: Path) -> None:
    r = _read(large, "pa_requests")
    start = pd.to_datetime(r["request_date"])
    stop = pd.to_datetime(r["outcome_date"]).fillna(PERIOD_END)
    x = pd.DataFrame({
        "language": r["language_needed"].notna(), "ethnicity": r["ethnicity_preference"].notna(),
        "gender": r["gender_preference"].notna(), "hospital_discharge": r["hospital_discharge"],
    }).astype(float)
    fit = PHReg((stop - start).dt.days.to_numpy(float), x.to_numpy(),
                status=(r["outcome"] == "filled").to_numpy(int), ties="efron").fit()
    ci = np.exp(fit.conf_int(alpha=0.05 / x.shape[1]))  # simultaneous 95% (Bonferroni)
    truth = _truth(large)
    assert set(r["outcome"]) == {"filled", "withdrawn", "open"}
    for k, name in enumerate(x.columns):
        value = truth[("recruitment_hazard_ratio", name)]
        assert ci[k, 0] <= value <= ci[k, 1], (name, value, ci[k])
        assert abs(fit.params[k] - np.log(value)) < 0.1, (name, np.exp(fit.params[k]))


def test_its_level_change_recovered_by_quasi_poisson(large: Path) -> None:
    """C2 (Asian) in teams without C1, before C4: a single clean interruption."""
    c1, c2, c4 = (next(c for c in CHANGES["leicester"] if c.change_id == k)
                  for k in ("C1", "C2", "C4"))
    e = _read(large, "support_episodes")
    broad = codes.ethnic_group_broad(codes.ethnic_group(e["ethnicity"]))
    pay = pd.to_datetime(e["dp_first_payment_date"])
    keep = (broad == "Asian") & ~e["team_id"].isin(list(c1.teams)) & pay.notna()
    month = (pay[keep].dt.year - 2021) * 12 + pay[keep].dt.month - 4
    counts = np.bincount(month[(month >= 0) & (month < c4.month)], minlength=c4.month)
    t = np.arange(c4.month)
    post = (t >= c2.month).astype(float)
    x = sm.add_constant(np.column_stack([t, post, post * (t - c2.month),
                                         np.sin(2 * np.pi * t / 12), np.cos(2 * np.pi * t / 12)]))
    fit = sm.GLM(counts, x, family=sm.families.Poisson()).fit(scale="X2")
    lo, hi = np.exp(fit.conf_int(alpha=0.025)[2])  # simultaneous 95% for level and slope
    truth = _truth(large)
    level = truth[("its_level_change", "C2:Asian")]
    assert lo <= level <= hi, (level, lo, hi)
    assert abs(fit.params[2] - np.log(level)) < 0.2  # ~3 standard errors at this size
    slope = truth[("its_slope_change", "C2:Asian")]
    s_lo, s_hi = np.exp(fit.conf_int(alpha=0.025)[3])
    assert s_lo <= slope <= s_hi, (slope, s_lo, s_hi)
    assert truth[("its_level_change", "C5:White")] == 1.0  # the placebo


def test_truth_names_cover_the_planted_effects(large: Path) -> None:
    truth = _truth(large)
    names = {name for name, _ in truth}
    assert {"uptake_odds_ratio", "uptake_share", "dp_offer_rate", "recruitment_hazard_ratio",
            "language_gap", "its_level_change", "its_slope_change", "survey_shift",
            "dp_setup_time_ratio", "unpaid_carer_share"} <= names
    # planted language gaps rank first among languages with many recipients
    gaps = {g: v for (n, g), v in truth.items() if n == "language_gap"}
    assert min(gaps["Somali"], gaps["Bengali"]) > max(gaps["Gujarati"], gaps["Polish"])
    # offers: a DP holder is always offered, so the offer rate exceeds the uptake share
    for g in ("Asian", "Black", "Mixed", "White", "Other"):
        assert truth[("dp_offer_rate", g)] > truth[("uptake_share", g)]
    assert truth[("survey_shift", "C2:info_ease:Asian")] < 0  # easier = lower score
    assert truth[("survey_shift", "C5:scrqol:White")] == 0.0


def test_dirty_writes_defects_in_quality_reason_names(tmp_path: Path) -> None:
    folder = synthesise(tmp_path, scale=0.3, seed=2, dirty=True)
    defects = json.loads((folder / "defects.json").read_text())
    assert {"support_episodes", "pa_register", "pa_requests", "survey"} <= defects.keys()
    prefixes = ("duplicate_row", "end_before_start", "unknown_code:", "blank_required:",
                "future_date:", "invalid_value:")
    assert all(r.startswith(prefixes) for t in defects.values() for r in t)
    assert not list(folder.glob("*.parquet"))  # dirty data stays text
    ds = evalkit.load(folder)
    got = ds.quality.set_index(["table", "reason"])["rows"]
    for table, reasons in defects.items():
        for reason, n in reasons.items():
            assert got.get((table, reason), 0) == n, (table, reason)
    excluded = got.drop(["kept", "duplicate_pa_listing"], level="reason", errors="ignore")
    assert excluded.groupby(level="table").sum().to_dict() == {
        t: sum(r.values()) for t, r in defects.items() if sum(r.values())}
