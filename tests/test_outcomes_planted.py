"""Planted-truth recovery for notebook 03: evalkit.outcomes on `synthesise` output over seeds.

The generator plants ITS level changes per practice change and survey shifts for C2, and a
placebo change C5 with no effect (docs/planted_effects.md, 03_outcomes). The 95% intervals must
hold the planted level changes and survey shifts in at least 90% of change x seed cases, and the
placebo's level change may be declared significant (interval excluding 1) in at most one seed of
eight (alpha = 0.05 gives 0.4 expected). C3 (Somali speakers) has too few DP starts at this scale
and is reported as not estimable, so it is not a case.
"""

from __future__ import annotations

import json

import evalkit
from evalkit import outcomes as o
from evalkit.data.synth import synthesise

SEEDS = range(1, 9)
SCALE = 0.2


def _cases(out) -> tuple[list[tuple], bool]:
    """(name, group, truth, lower, upper) per planted level change / survey shift, and whether
    the placebo's level change was declared significant."""
    data = evalkit.load(out)
    ep, log = data.support_episodes, o.change_log(data.practice_changes)
    start, end = o.series_bounds(ep)
    est = {}
    for _, change in log[log["implemented"]].iterrows():
        fit = o.fit_change(ep, log, change, start=start, end=end)
        level = fit.estimate("level_change")
        if level is not None:
            est[("its_level_change", fit.group)] = (level["lower"], level["upper"])
        shifts = o.survey_shifts(data.survey, change)
        for _, r in shifts.iterrows():
            est[("survey_shift", f"{change['change_id']}:{r['measure']}:{r['group']}")] = (
                r["lower"], r["upper"])
    truth = json.loads((out / "truth.json").read_text())["effects"]
    cases = [(e["name"], e["group"], e["value"], *est.get((e["name"], e["group"]), (None, None)))
             for e in truth if e["name"] in ("its_level_change", "survey_shift")]
    lo, hi = est[("its_level_change", "C5:White")]
    return cases, not lo <= 1.0 <= hi


def test_planted_level_changes_and_survey_shifts_inside_95_ci(tmp_path):
    cases, placebo_hits = [], 0
    for seed in SEEDS:
        got, hit = _cases(synthesise(tmp_path / f"s{seed}", scale=SCALE, seed=seed))
        cases += got
        placebo_hits += hit
    estimated = [c for c in cases if c[3] is not None]
    missing = {g for n, g, _, lo, _ in cases if lo is None}
    assert missing <= {"C3:language:Somali"}, missing  # too few Somali DP starts at this scale
    assert {g for _, g, *_ in estimated} >= {"C1:all", "C2:Asian", "C4:all", "C5:White",
                                             "C2:scrqol:Asian", "C5:info_ease:White"}
    inside = [lo <= v <= hi for _, _, v, lo, hi in estimated]
    missed = [c for c, ok in zip(estimated, inside, strict=True) if not ok]
    assert sum(inside) >= 0.9 * len(estimated), f"{sum(inside)}/{len(estimated)}; {missed}"
    assert placebo_hits <= 1, f"placebo significant in {placebo_hits} of {len(SEEDS)} seeds"
