"""Notebook 02_pa_market: committed thin and clean with the sections in order; its outputs from
the test run's shared `evalkit run` (conftest `published`)."""

from __future__ import annotations

NOTEBOOK = "02_pa_market"
SECTIONS = ["Key findings", "Data", "Who the PAs are", "Language coverage", "Time to recruit",
            "Match achieved", "Change between snapshots", "Compared with England and the region",
            "Methods and caveats"]
MIN_BULLETS = 2


def test_notebook_is_committed_thin_and_clean(committed_notebook):
    assert committed_notebook(NOTEBOOK) == SECTIONS


def test_results_hold_the_key_estimates(published):
    doc = published(NOTEBOOK).results
    names = {e["name"] for e in doc["estimates"]}
    assert {"recruitment_hazard_ratio", "language_gap"} <= names
    hr = {e["group"] for e in doc["estimates"] if e["name"] == "recruitment_hazard_ratio"}
    # language is held back by disclosure control (ACRO rule): at this scale only 4 requests
    # stating a language were not filled, fewer than min_cell in a category the ratio compares
    assert hr == {"ethnicity", "gender", "hospital_discharge"}


def test_key_findings_are_bullets_in_plain_words(published):
    findings = published(NOTEBOOK).key_findings
    assert findings.count("\n- ") >= MIN_BULLETS and "BAME" not in findings


def test_outputs_show_no_identifiers_or_stray_values(published):
    report = published(NOTEBOOK)
    assert report.stray_outputs() == []
    text = report.readable_text()
    assert "Traceback" not in text and "PA0000" not in text  # no PA identifiers shown
