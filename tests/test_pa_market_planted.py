"""Planted truth: pa_market recovers what `evalkit synth` planted, over many seeds.

Hazard ratios (language, ethnicity, gender, hospital discharge): the planted value lies inside
the reported 95% CI in at least 90% of (seed, preference) cases, over 20 seeds. Language gaps:
the planted gap languages rank first in the gap table, and every language's gap equals the
generator's own figure (same definition: an exact count, shown with no interval).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evalkit import cohorts
from evalkit.analyses import pa_market as pm
from evalkit.data.load import find_files, load_table
from evalkit.synth.generator import synthesise

HR_SEEDS, HR_SCALE = range(1, 21), 0.5  # about 450 requests per seed, 80 (seed, HR) cases
GAP_SEEDS, GAP_SCALE = range(1, 4), 4.0  # planted gaps stand out from small languages here


def _tables(folder) -> dict[str, pd.DataFrame]:
    """The three tables notebook 02 needs, loaded and validated as evalkit.load does."""
    files, _ = find_files(folder)
    extract = pd.Timestamp("2026-12-31")
    return {t: load_table(t, files[t], extract)[0]
            for t in ("support_episodes", "pa_register", "pa_requests")}


def _one_seed(folder, seed: int, scale: float) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """pa_market's Cox table and language coverage on one synthetic folder, and its truth."""
    synthesise(folder, scale=scale, seed=seed)
    t = _tables(folder)
    eps, reg, req = t["support_episodes"], t["pa_register"], t["pa_requests"]
    end = pm.extract_date(eps, reg, req)
    cox = pm.recruitment_cox(pm.recruitment_durations(req, end))
    pas = pm.active_pas(reg, pm.choose_snapshot(reg))
    cov = pm.language_coverage(pas, cohorts.dp_recipients(eps, end))
    truth = json.loads((folder / "truth.json").read_text())["effects"]
    return cox, cov, truth


def test_planted_hazard_ratios_inside_ci_in_90_percent_of_cases(tmp_path):
    covered, cases, misses = 0, 0, []
    for seed in HR_SEEDS:
        cox, _, truth = _one_seed(tmp_path / f"s{seed}", seed, HR_SCALE)
        est = cox.set_index("group")
        for e in (e for e in truth if e["name"] == "recruitment_hazard_ratio"):
            lo, hi = est.loc[e["group"], ["lower", "upper"]]
            cases += 1
            covered += bool(lo <= e["value"] <= hi)
            if not lo <= e["value"] <= hi:
                misses.append((seed, e["group"], e["value"], round(lo, 3), round(hi, 3)))
    assert cases == 4 * len(HR_SEEDS)
    print(f"hazard-ratio coverage {covered}/{cases}; misses {misses}")
    assert covered / cases >= 0.90, f"planted HRs inside the 95% CI in {covered}/{cases}: {misses}"


def test_planted_gap_languages_rank_first_and_gaps_match_truth(tmp_path):
    for seed in GAP_SEEDS:
        _, cov, truth = _one_seed(tmp_path / f"s{seed}", seed, GAP_SCALE)
        gaps = {e["group"]: e for e in truth if e["name"] == "language_gap"}
        planted = {g for g, e in gaps.items() if e.get("note") == "planted"}
        assert planted, "truth.json names no planted gap language"
        assert set(cov["language"].iloc[:len(planted)]) == planted, (
            seed, list(cov["language"].iloc[:4]))
        got = cov.set_index("language")
        for lang, e in gaps.items():
            row = got.loc[lang]
            # an exact count of everyone: the generator's own figure, with no interval
            assert row["value"] == pytest.approx(e["value"], abs=1e-4), (seed, lang)
        assert not {"lower", "upper"} & set(cov.columns)
