"""Notebook 01_uptake: committed clean; its outputs from the test run's shared `evalkit run`
(conftest `published`); and, in a run of its own, every section with la_code = "all" on a
small england-profile folder."""

from __future__ import annotations

import json

from helpers.reports import evalkit_run

from evalkit.synth.generator import synthesise

NOTEBOOK = "01_uptake"
ENGLAND_SCALE, ENGLAND_SEED = 0.005, 3  # ~60 councils, a few people each
LOOKBACK = 2  # quarters of trend: enough to draw it, fewer models to fit
MIN_BULLETS, MAX_BULLETS = 3, 6  # key findings, as DESIGN.md asks


def test_notebook_is_committed_clean(committed_notebook):
    assert "Uptake by ethnic group" in committed_notebook(NOTEBOOK)


def test_results_hold_the_key_estimates(published):
    report = published(NOTEBOOK)
    doc = report.results
    names = {e["name"] for e in doc["estimates"]}
    assert {"uptake_odds_ratio", "uptake_share", "dp_offer_rate", "unpaid_carer_share",
            "dp_setup_time_ratio"} <= names
    groups = {(e["name"], e["group"]) for e in doc["estimates"]}
    assert ("uptake_odds_ratio", "Asian") in groups and ("dp_offer_rate", "White") in groups
    assert doc["notebook"] == NOTEBOOK and doc["parameters"]["la_code"] == report.council


def test_key_findings_are_a_few_bullets(published):
    bullets = [s for s in published(NOTEBOOK).key_findings.splitlines() if s.startswith("- ")]
    assert MIN_BULLETS <= len(bullets) <= MAX_BULLETS


def test_outputs_show_no_identifiers_stray_values_or_unlabelled_charts(published):
    report = published(NOTEBOOK)
    assert report.stray_outputs() == []
    text = report.readable_text()
    assert "person_id" not in text and "BAME" not in text
    charts = [h for h in report.html_outputs() if "<img" in h]
    assert charts and all(' alt="' in h for h in charts)


def test_all_councils_on_an_england_folder(tmp_path):
    """The notebook as the national runner runs it (la_code "all") on an england-profile
    folder: other parameters and data than the shared run, so it runs on its own."""
    data = synthesise(tmp_path / "data", profile="england", scale=ENGLAND_SCALE,
                      seed=ENGLAND_SEED)
    code = evalkit_run(str(data), "--out", str(tmp_path / "out"), "--la", "all",
                       "--notebooks", NOTEBOOK[:2], "--param", f"lookback={LOOKBACK}")
    folder = tmp_path / "out" / "all" / NOTEBOOK
    manifest = json.loads((folder.parent / "manifest.json").read_text())
    assert code == 0, manifest["notebooks"][0]["error"]
    assert json.loads((folder / "results.json").read_text())["parameters"]["la_code"] == "all"
    executed = (folder / f"{NOTEBOOK}.ipynb").read_text()  # the funnel plot compares councils
    assert "Funnel plot: Direct Payment share for" in executed and " councils against" in executed
