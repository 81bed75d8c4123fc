"""Planted-truth recovery for notebook 01: the uptake analysis on `synthesise` output over seeds.

The generator plants DP odds ratios by ethnic group, language and interpreter need, a DP offer
probability, an unpaid-carer probability and a set-up time ratio (request to first payment) by
group (docs/planted_effects.md, 01_uptake); the 95% intervals must hold the truth in at least 90%
of group x seed cases, both as fitted on the exact data and as published (through the disclosure
protection of the publication step: shares from rounded counts, odds ratios blank where the ACRO
rule fails, docs/disclosure.md).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import evalkit
from evalkit import cohorts
from evalkit.analyses import uptake as u
from evalkit.analyses.uptake.publish import SPECS
from evalkit.report.publication import default_rules
from evalkit.sdc.protect import protect_frame
from evalkit.synth.generator import synthesise

SEEDS = range(1, 7)
NAMES = ("uptake_odds_ratio", "dp_offer_rate", "unpaid_carer_share", "dp_setup_time_ratio")


def _cases(out, protect: bool) -> list[tuple[str, str, float, float | None, float | None]]:
    """(name, group, truth, lower, upper) for every planted effect of NAMES in one folder, the
    estimates as fitted or, with `protect`, as published."""
    rules = default_rules(5)

    def shown(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        return protect_frame(frame, SPECS[name], rules) if protect else frame

    data = evalkit.load(out)
    truth = json.loads((out / "truth.json").read_text())
    snap = cohorts.snapshot(data.support_episodes, truth["period_end"])
    o = shown(u.adjusted_odds_ratios(snap, u.GROUP_COLUMNS["broad"], "White"), "odds/broad")
    prefix = o["factor"].map({"group": "", "language": "language:", "interpreter": "interpreter:"})
    est = {("uptake_odds_ratio", p + g): (lo, hi)
           for p, g, lo, hi in zip(prefix, o["group"], o["lower"], o["upper"], strict=True)
           if isinstance(p, str)}
    broad = u.GROUP_COLUMNS["broad"]
    off = shown(u.offer_rates(snap, broad), "offers/broad")
    off = off[off["measure"] == "offered"]
    est |= {("dp_offer_rate", g): (lo, hi) for g, lo, hi in
            zip(off[u.GROUP_COLUMNS["broad"]], off["lower"], off["upper"], strict=True)}
    end = pd.Timestamp(truth["period_end"])
    setup = u.setup_days(data.support_episodes, broad, end, end - pd.DateOffset(years=3))
    for name, r in (("dp_setup_time_ratio", shown(u.geometric_mean_ratio(setup, "days", broad,
                                                                         "White"),
                                                  "setup/ratio_broad")),
                    ("unpaid_carer_share", shown(u.carer_share(snap, broad), "carer/broad"))):
        est |= {(name, g): (lo, hi) for g, lo, hi in
                zip(r[broad], r["lower"], r["upper"], strict=True)}
    return [(e["name"], e["group"], e["value"], *est.get((e["name"], e["group"]), (None, None)))
            for e in truth["effects"] if e["name"] in NAMES]


@pytest.mark.slow
@pytest.mark.parametrize("protect", [False, True], ids=["as fitted", "as published"])
def test_planted_odds_ratios_and_offer_rates_inside_95_ci(tmp_path_factory, protect):
    # Measured: 128/132 as fitted; 123/132 as published (2 Somali odds ratios more left blank
    # by the ACRO rule, 3 shares at the edge of their interval moved out by rounding).
    root = tmp_path_factory.getbasetemp() / "planted01"
    cases = []
    for seed in SEEDS:
        folder = root / f"s{seed}"
        if not (folder / "truth.json").exists():
            synthesise(folder, scale=1.0, seed=seed)
        cases += _cases(folder, protect)
    groups = {(n, g) for n, g, *_ in cases}
    assert {("uptake_odds_ratio", "Asian"), ("uptake_odds_ratio", "language:Somali"),
            ("uptake_odds_ratio", "interpreter:yes"), ("dp_offer_rate", "White"),
            ("unpaid_carer_share", "Asian"), ("dp_setup_time_ratio", "Black")} <= groups
    inside = [lo is not None and lo <= v <= hi for _, _, v, lo, hi in cases]
    missed = [c for c, ok in zip(cases, inside, strict=True) if not ok]
    assert sum(inside) >= 0.9 * len(cases), f"{sum(inside)}/{len(cases)} inside; missed {missed}"
