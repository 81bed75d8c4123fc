"""Notebook 02's key findings say what its sections say: every number a finding quotes is a
figure of the row of the section it sums up (language coverage, time to recruit, the Cox model,
hospital discharge, the index of dissimilarity), written as the sentence writes that figure."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from helpers.written import NUMBER, count, level, ratio, whole

import evalkit
from evalkit.analyses import pa_market as pm
from evalkit.analyses.pa_market.compute_recruitment import ALL_REQUESTS, PREFERENCE_LABELS
from evalkit.analyses.pa_market.compute_workforce import SOURCES
from evalkit.report.findings import MAX_FINDINGS, MAX_WORDS, fmt_share
from evalkit.report.publication import Publication
from evalkit.synth.generator import synthesise

#: how a finding writes each figure of a section's row: shares as fmt_share, counts with
#: thousands separators, days and areas whole, hazard ratios to 2 places, the confidence level
SHARES = {"value": fmt_share, "lower": fmt_share, "upper": fmt_share, "conf": level}
FORMATS: dict[str, dict[str, Callable[[float], str]]] = {
    "coverage": {"value": fmt_share, "share_of_recipients": fmt_share, "no_pa_area": count,
                 "with_area": count, "areas": whole, "areas_without": whole},
    "medians": {"n": count, "value": whole, "lower": whole, "upper": whole, "conf": level},
    "filled": {**SHARES, "followed": count, "days": whole},
    "cox": {"value": ratio, "lower": ratio, "upper": ratio, "conf": level},
    "dissimilarity": SHARES,
}


#: the councils: a language gap (seed 3), a hospital-discharge share (seed 1), and a small
#: council with most language rows held back (seed 5)
VARIANTS = {"seed3-gap": (3, 0.5), "seed1-discharge": (1, 1.0), "seed5-small": (5, 0.2)}


@pytest.fixture(scope="module")
def pubs(tmp_path_factory) -> dict[str, Publication]:
    """The Publication of each VARIANTS council."""
    out = {}
    for name, (seed, scale) in VARIANTS.items():
        folder = synthesise(tmp_path_factory.mktemp(f"find02_{seed}") / "data", scale=scale,
                            seed=seed)
        out[name] = pm.publish(pm.analyse(evalkit.load(folder), n_boot=20))
    return out


@pytest.fixture(params=list(VARIANTS))
def pub(request, pubs) -> Publication:
    return pubs[request.param]


def sources(pub: Publication, text: str) -> list[tuple[str, pd.Series]]:
    """The (frame, row) pairs of the section `text` sums up, found from the sentence's opening
    words and the section's structure alone."""
    cov, filled = pub["coverage"], pub["filled"]
    for _, r in cov.iterrows():
        if text.startswith(f"{r['language']} speakers"):
            return [("coverage", r)]
    if text.startswith("Half of the "):
        med = pub["medians"]
        out = [("medians", med[med["group"] == ALL_REQUESTS].iloc[0])]
        if "followed for 28 days" in text:
            out.append(("filled", filled[(filled["group"] == ALL_REQUESTS)
                                         & (filled["days"] == 28)].iloc[0]))
        return out
    for _, r in pub["cox"].iterrows():
        if text.startswith(f"Requests that asked for a PA matching their "
                           f"{r['preference'].lower()} "):
            return [("cox", r)]
    if "requests for people leaving hospital" in text:
        days = pub.context["discharge_target_days"]
        hd = filled[(filled["group"] == PREFERENCE_LABELS["hospital_discharge"])
                    & (filled["days"] == days)]
        return [("filled", hd.iloc[0])]
    if text.startswith("To mirror the ethnic mix of the people who employ them"):
        d = pub["dissimilarity"]
        return [("dissimilarity", d[d["comparison"].str.endswith(SOURCES["recipients"])].iloc[0])]
    raise AssertionError(f"no section found for the finding {text!r}")


def written(frame: str, row: pd.Series) -> set[str]:
    """Every figure of `row` as a finding writes it (FORMATS); a missing figure is not written."""
    return {fmt(row[col]) for col, fmt in FORMATS[frame].items() if pd.notna(row[col])}


def test_every_number_in_a_finding_is_in_the_row_it_sums_up(pub):
    found = pm.key_findings(pub)
    assert 1 <= len(found) <= MAX_FINDINGS
    for text in found:
        assert len(text.split()) <= MAX_WORDS, text
        parts = sources(pub, text)
        allowed = set().union(*(written(frame, row) for frame, row in parts))
        assert set(NUMBER.findall(text)) <= allowed, (text, [f for f, _ in parts])


def test_each_estimate_is_quoted_with_its_own_interval(pub):
    # the value and both limits of the row, in that order: never a limit of another row
    for text in pm.key_findings(pub):
        for frame, row in sources(pub, text):
            if frame == "coverage":  # every person counted: an exact share, no interval
                assert "CI" not in text and fmt_share(row["value"]) in text
                continue
            fmt = FORMATS[frame]["value"]
            ci = f"{level(row['conf'])} CI {fmt(row['lower'])} to {fmt(row['upper'])}"
            assert ci in text and fmt(row["value"]) in text.split(ci)[0], (text, frame)


def test_a_slower_preference_is_said_only_when_its_interval_is_below_1(pub):
    for text in pm.key_findings(pub):
        for frame, row in sources(pub, text):
            if frame == "cox":
                assert row["upper"] < 1 and "more slowly" in text and "chance" not in text


def test_the_variants_word_every_section_a_finding_can_sum_up(pubs):
    said = {frame for p in pubs.values() for text in pm.key_findings(p)
            for frame, _ in sources(p, text)}
    gaps = [t for p in pubs.values() for t in pm.key_findings(p) if "speakers" in t]
    assert said == set(FORMATS) and gaps
