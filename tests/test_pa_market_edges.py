"""analyse() and every display function on awkward data: one snapshot, no requests, optional
fields absent, languages written in different ways. Clear statements, never exceptions."""

from __future__ import annotations

import dataclasses
import re
import shutil

import pandas as pd
import pytest

import evalkit
from evalkit.analyses import pa_market as pm
from evalkit.report import style
from evalkit.synth.generator import synthesise

SHOW = [pm.show_key_findings, pm.show_snapshots, pm.show_returns, pm.show_data_quality,
        pm.show_composition, lambda m: pm.show_composition(m, "language"),
        lambda m: pm.show_composition(m, "religion"), pm.show_composition_chart,
        pm.show_dissimilarity, pm.show_representation, pm.show_language_supply,
        pm.show_language_gaps, pm.show_language_gap_chart, pm.show_area_heatmap,
        pm.show_recruitment_curves, pm.show_time_to_fill, pm.show_recruitment_cox,
        pm.show_match, pm.show_match_sources, pm.show_change,
        lambda m: pm.show_change(m, "ethnic_group_broad"),
        lambda m: pm.show_change(m, "language"), pm.show_methods]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return synthesise(tmp_path_factory.mktemp("edges") / "data", scale=0.2, seed=5)


@pytest.fixture(scope="module")
def data(folder):
    return evalkit.load(folder)


@pytest.fixture
def shown(monkeypatch):
    """Collect what the display functions show (Markdown and HTML text) instead of showing it."""
    out: list[str] = []

    def grab(obj):  # embedded images are base64, which can spell anything: drop them
        out.append(re.sub(r"base64,[^\"]+", "", str(getattr(obj, "data", obj))))

    monkeypatch.setattr(style, "display", grab)
    return out


def run_all(data, shown, **kwargs) -> tuple[pm.Market, str]:
    """analyse, publish + every show function; returns the market and the text of everything
    shown."""
    m = pm.analyse(data, n_boot=50, **kwargs)
    pub = pm.publish(m)
    for show in SHOW:
        show(pub)
    pm.estimates(pub)
    return m, "\n".join(shown)


def test_full_data_shows_every_section(data, shown):
    m, out = run_all(data, shown)
    assert "Traceback" not in out and "PA0000" not in out and "BAME" not in out
    assert len(m.snapshots) == 6 and m.params["la_code"] == data.support_episodes["la_code"][0]
    assert not m.cox.empty and not m.coverage.empty


def test_single_snapshot(data, shown):
    reg = data.pa_register
    one = dataclasses.replace(data, pa_register=reg[reg["snapshot_date"] == reg[
        "snapshot_date"].max()])
    m, out = run_all(one, shown)
    assert "only 1 snapshot(s)" in out and "change between snapshots needs at least two" in out
    assert all(c.empty for c in m.change.values())


def test_chosen_snapshot_must_exist(data):
    with pytest.raises(ValueError, match="snapshot_date 2020-01-01 is not in the PA register"):
        pm.analyse(data, snapshot_date="2020-01-01")
    m = pm.analyse(data, snapshot_date="2024-04-01", n_boot=20)
    assert m.snapshot == pd.Timestamp("2024-04-01") and m.as_at == m.snapshot


@pytest.mark.parametrize("requests", ["absent", "empty"])
def test_no_requests(data, shown, requests):
    req = None if requests == "absent" else data.pa_requests.iloc[:0]
    m, out = run_all(dataclasses.replace(data, pa_requests=req), shown)
    assert "no PA requests" in out
    assert m.cox.empty and m.medians.empty and m.match.empty
    assert not {"recruitment_hazard_ratio", "recruitment_median_days"} & set(
        pm.estimates(pm.publish(m))["name"])


def test_no_register(data, shown):
    m, out = run_all(dataclasses.replace(data, pa_register=None), shown)
    assert "There is no PA register" in out and m.snapshot is None


def test_optional_fields_absent(data, shown):
    eps = data.support_episodes.drop(columns=["dp_used_for", "preferred_language", "area_code"])
    reg = data.pa_register.drop(columns=["religion"], errors="ignore")
    req = data.pa_requests.drop(columns=["match_source"])
    m, out = run_all(dataclasses.replace(data, support_episodes=eps, pa_register=reg,
                                         pa_requests=req), shown)
    assert "no dp_used_for column" in out and "no preferred_language column" in out
    assert "no match_source column" in out and "has no area_code column" in out
    assert m.coverage.empty and m.sources.empty
    assert "religion" not in m.composition


def test_whole_council_as_one_area(data):
    m = pm.analyse(data, area_level="la_code", n_boot=20)
    assert set(m.grid["area"]) == {data.support_episodes["la_code"][0]}


def test_languages_written_in_different_ways_are_one_language(folder, data, tmp_path):
    variant = tmp_path / "variant"
    shutil.copytree(folder, variant)
    spellings = {"agency_a.csv": "gujarati ", "agency_b.csv": "guj", "agency_c.csv": "GU"}
    for name, spelt in spellings.items():
        path = variant / "pa_register" / name
        path.write_text(path.read_text().replace("Gujarati", spelt))
    for name, spelt in (("support_episodes.csv", " GUJARATI"), ("pa_requests.csv", "guj")):
        path = variant / name
        path.write_text(path.read_text().replace("Gujarati", spelt))
    a, b = pm.analyse(data, n_boot=20), pm.analyse(evalkit.load(variant), n_boot=20)
    pd.testing.assert_frame_equal(a.coverage, b.coverage)
    pd.testing.assert_frame_equal(a.match, b.match)
    assert "Gujarati" in set(b.coverage["language"])


def test_composition_chart_draws_only_protected_shares(data, shown):
    """Recipients: 52 Asian, 8 Black, 39 White, 1 Not stated (100). Published: 50, 10, 40, [c]
    and a total of 100 each rounded on its own; the chart and table show Black at 10% (10 of
    100, from the rounded counts), never 8%, and nothing for Not stated."""
    pas = pd.DataFrame({"pa_id": range(60), "ethnic_group_broad": ["Asian"] * 20 + ["Black"] * 10
                        + ["White"] * 30})
    rec = pd.DataFrame({"person_id": range(100), "ethnic_group_broad": ["Asian"] * 52
                        + ["Black"] * 8 + ["White"] * 39 + ["Not stated"]})
    pop = pd.DataFrame({"ethnic_group_broad": ["Asian", "Black", "White"],
                        "population": [100, 50, 200]})
    comp = pm.composition(pas, rec, pop, "ethnic_group_broad")
    m = dataclasses.replace(pm.analyse(data, n_boot=20), composition={"ethnic_group_broad": comp})
    pub = pm.publish(m)
    t = pm.composition_table(pub, "ethnic_group_broad").set_index("Group")
    col = "DP recipients employing PAs"
    assert t.loc[["Asian", "Black", "White", "Total"], f"{col}: n"].tolist() == [50, 10, 40, 100]
    assert pd.isna(t.loc["Not stated", f"{col}: n"]) and pd.isna(t.loc["Not stated", f"{col}: %"])
    pm.show_composition_chart(pub)
    alt = re.search(r'alt="([^"]*)"', "\n".join(shown)).group(1)
    assert f"Black {col} 10%" in alt and "8.0%" not in alt and "Not stated" not in alt


def test_every_ethnic_group_count_suppressed(data, shown):
    """A council so small that disclosure control hides every broad ethnic-group count: no
    representation measure can be worked out, and the page says so (its table keeps its
    columns: an empty list of rows once selected no columns, and the display failed)."""
    m, out = run_all(data, shown, min_cell=10**9)
    rep = pm.publish(m)["representation"]
    assert rep.empty and "measure" in rep.columns
    assert "Relative likelihoods need" in out
