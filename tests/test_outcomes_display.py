"""03's charts and sentences (issues 17 and 18): a run chart is process monitoring in words, never
the change's verdict; rare DP starts get the t chart's verdict, not a monthly chart of chance;
key findings quote the estimate the report recommends; the ITS interval is cut with a note;
unpublished months are gaps; every chart's headline is page text and opens its alt text."""

from __future__ import annotations

import dataclasses
import html
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit.analyses import outcomes as o
from evalkit.analyses.outcomes import display_series as ds
from evalkit.analyses.outcomes.findings import (
    controlled_sentence,
    its_sentence,
    quote,
    recommended_sentence,
    selected,
)
from evalkit.report import style
from evalkit.sdc.embedded import without_images
from evalkit.synth.generator import synthesise

matplotlib.use("Agg")
CHANGES = ["C2", "C5"]  # Asian people (level 1.25) and the placebo (White people, no effect)


@pytest.fixture(scope="module")
def res(tmp_path_factory):
    folder = synthesise(tmp_path_factory.mktemp("o03d") / "data", scale=0.2, seed=4)
    return o.analyse(evalkit.load(folder), change_id=CHANGES)


@pytest.fixture(scope="module")
def pub(res):
    return o.publish(res)


@pytest.fixture
def said(monkeypatch):
    out: list[str] = []
    monkeypatch.setattr(style, "display", lambda obj: out.append(str(getattr(obj, "data", ""))))
    return out


def test_key_findings_quote_the_estimate_the_report_recommends(pub):
    findings = o.key_findings(pub)
    for cid in selected(pub)["change_id"]:
        kind, _ = quote(pub, cid)
        want = controlled_sentence(pub, cid) if kind == "controlled" else its_sentence(pub, cid)
        assert recommended_sentence(pub, cid) == want
        assert want in findings
    assert {quote(pub, c)[0] for c in CHANGES} == {"controlled"}  # as on these data
    assert not set(findings) & {its_sentence(pub, c) for c in CHANGES}


def test_the_placebo_is_not_reported_as_a_change_when_its_interval_holds_no_change(pub):
    e = pub["controlled_its/C5"].set_index("term").loc["treated:level_change"]
    sentence = recommended_sentence(pub, "C5")
    assert e["lower"] <= 1 <= e["upper"]
    assert "could be chance" in sentence and not re.search(r"\b(rose|fell)\b", sentence)


def test_starts_without_a_run_chart_get_the_t_chart_verdict_in_words(res, pub, said):
    fit = res.fits[0]
    assert pub["spc/C2"] is None  # months too small to publish a run chart
    points = o.rare_points(fit)
    assert len(points) == len(fit.event_dates) - 1 and set(points["post"]) == {0, 1}
    rare = pub["spc_rare/C2"]
    assert list(rare.columns) == ["period", "longer", "shorter"]
    assert rare["period"].tolist() == ["before", "after"]
    ds.show_spc(pub, "C2")
    text = " ".join(said)
    assert "t chart" in text and "not that this change caused it" in text
    assert not re.search(r"special|UCL|\bCL\b|\d", text)  # no rule codes, days or dates


def test_run_chart_titles_and_tables_are_in_words():
    # every rule stats.spc can give, as words; a signal is never called the change's effect
    for rule, words in {"Above UCL": "above the upper limit",
                        "Below LCL": "below the lower limit",
                        "7 Point Trend (Increasing)": "7 months rising in a row",
                        "6 Point Trend (Decreasing)": "6 months falling in a row",
                        "2 in 3 Above CL": "2 of 3 months near the upper limit",
                        "2 in 3 Below CL": "2 of 3 months near the lower limit",
                        "7 Points Above CL": "7 months in a row above the average",
                        "7 Points Below CL": "7 months in a row below the average"}.items():
        assert ds.rule_words(rule) == words
    with pytest.raises(ValueError, match="unknown SPC rule"):
        ds.rule_words("Special cause")


def _with(pub, **frames):
    return dataclasses.replace(pub, frames={**pub.frames, **frames})


def test_run_chart_headline_counts_unusual_months_in_words(pub, said):
    months = pub["series/C5"]["month"]
    kinds = np.where(np.arange(len(months)) >= len(months) - 2, "special_cause_improvement",
                     "common_cause")
    points = pd.DataFrame({"month": months, "i": np.arange(1, len(months) + 1),
                           "rebase_group": 0, "mean": 10.0, "lpl": 2.0, "upl": 18.0,
                           "point_type": kinds})
    limits = pd.DataFrame({"rebase_group": [0], "n": [len(months)], "mean": [10.0],
                           "lpl": [2.0], "upl": [18.0], "rules": ["Above UCL"]})
    shown = _with(pub, **{"spc/C5": points, "spc_limits/C5": limits})
    title = ds.spc_title(shown, "C5")
    assert "2 unusual months" in title and "above the upper limit" in title
    assert not re.search(r"special|UCL|caus|work|effect", title, re.I)
    ds.show_spc(shown, "C5")
    text = " ".join(said)
    assert f"**{title}.**" in text and f'alt="{html.escape(title)}.' in text
    assert "Run chart limits around" in text and ds.SPC_CAUTION in text


def test_its_interval_is_cut_off_with_a_note_and_unpublished_months_are_gaps(pub):
    lines, top, note = ds.its_lines(pub, "C5")
    series = pub["series/C5"]
    assert lines["observed"].isna().tolist() == series["y"].isna().tolist()
    wide = pub["its_lines/C5"].assign(upper=lambda d: d["upper"] * 50)
    hidden = pub["series/C5"].assign(y=lambda d: d["y"].where(d.index != 3))
    lines, top, note = ds.its_lines(_with(pub, **{"its_lines/C5": wide, "series/C5": hidden}),
                                    "C5")
    assert np.isnan(lines["observed"].iloc[3]) and lines["observed"].iloc[3] != 0
    assert top < lines["upper"].max() and "cut off at the top of the chart" in note
    assert top == pytest.approx(ds.HEADROOM * np.nanmax(
        lines[["observed", "fitted", "counterfactual"]].to_numpy()))


def test_its_and_controlled_chart_headlines_are_page_text_and_alt_text(pub, said):
    o.show_its(pub, "C5")
    o.show_controlled(pub, "C5")
    text = " ".join(said)
    for title in (its_sentence(pub, "C5").rstrip("."), controlled_sentence(pub, "C5")
                  .rstrip(".")):
        assert f"**{title}.**" in text and f'alt="{html.escape(title)}.' in text


def test_changes_are_named_by_name_not_id(pub, said):
    changes = pub["changes"]
    skipped = _with(pub, changes=changes.assign(evaluated=changes["evaluated"]
                                                & changes["change_id"].ne("C5")))
    findings = o.key_findings(skipped)
    placebo = changes.set_index("change_id").loc["C5", "name"]
    assert any(f.startswith(f"{placebo}: could not be evaluated") for f in findings)
    assert not any(re.search(r"\bC\d\b", f) for f in findings)
    o.show_controlled(pub, "C5")
    assert f"Estimate to quote for {placebo}:" in " ".join(said)


def test_no_change_is_named_by_its_log_id_anywhere_on_the_page(pub, said):
    # every section of the page, alt text included: a change is named by its name, and a
    # power or planning row by its people, never by a log id such as C4 or C4:all
    for show in (o.show_key_findings, o.show_quality, o.show_series, o.show_timeline,
                 o.show_planned, o.show_power, o.show_methods):
        show(pub)
    for show in (o.show_its, o.show_spc, o.show_controlled, o.show_experience):
        o.show_each(pub, show)
    text = html.unescape(without_images(" ".join(said)))  # a chart's base64 may hold "/C2+"
    assert "Translatable online DP guidance" in text
    ids = sorted(set(pub["changes"]["change_id"]))
    assert not re.findall(rf"\b(?:{'|'.join(ids)})\b", text)


def _long(pub, change_id: str, name: str):
    changes = pub["changes"]
    return _with(pub, changes=changes.assign(
        name=changes["name"].where(changes["change_id"].ne(change_id), name)))


def test_a_long_name_gives_way_in_a_finding_never_the_estimate_or_its_chance(pub):
    from evalkit.report.findings import MAX_WORDS
    long = _long(pub, "C5", "A very long name for a practice change " * 6)
    sentence = recommended_sentence(long, "C5")
    assert len(sentence.split()) <= MAX_WORDS
    assert sentence.endswith("which could be chance.") and "95% CI" in sentence
    assert sentence in o.key_findings(long)


def test_models_that_disagree_say_so_and_which_to_quote(pub):
    from evalkit.analyses.outcomes.findings import disagreement
    own = pub["its/C5"].set_index("term").loc["level_change"]
    ctl = pub["controlled_its/C5"].set_index("term").loc["treated:level_change"]
    agree = (own["lower"] <= 1 <= own["upper"]) == (ctl["lower"] <= 1 <= ctl["upper"])
    assert (disagreement(pub, "C5") == "") == agree
    rise = pub["its/C5"].assign(lower=np.where(pub["its/C5"]["term"] == "level_change", 1.05,
                                               pub["its/C5"]["lower"]))
    sentence = disagreement(_with(pub, **{"its/C5": rise}), "C5")
    assert sentence.startswith("The two estimates disagree: the single-group series shows a rise")
    assert "shows no clear change" in sentence and "quote the controlled comparison" in sentence


def test_changes_that_share_a_name_are_told_apart_by_their_month():
    from evalkit.analyses.outcomes.compute_series import distinct_names
    log = pd.DataFrame({"change_id": ["A", "B", "C", "D"], "name": ["Training"] * 3 + ["Leaflet"],
                        "date": pd.to_datetime(["2023-03-01", "2024-03-01", "2024-03-20",
                                                "2024-05-01"])})
    assert distinct_names(log).tolist() == ["Training (March 2023)",
                                            "Training (March 2024) [B]",
                                            "Training (March 2024) [C]", "Leaflet"]
