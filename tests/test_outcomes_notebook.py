"""Notebook 03_outcomes: committed clean with the sections in order; its outputs from the test
run's shared `evalkit run` (conftest `published`)."""

from __future__ import annotations

from evalkit.analyses.outcomes.display_series import SPC_CAUTION

NOTEBOOK = "03_outcomes"
SECTIONS = ["Key findings", "Data", "Run charts", "Interrupted time series",
            "Controlled comparison", "Experience", "What people told us",
            "How long until we would know", "Methods and caveats"]


def test_notebook_is_committed_clean(committed_notebook):
    assert committed_notebook(NOTEBOOK) == SECTIONS


def test_results_hold_the_key_estimates(published):
    report = published(NOTEBOOK)
    doc = report.results
    groups = {(e["name"], e["group"]) for e in doc["estimates"]}
    assert {("its_level_change", "C2:Asian"), ("its_slope_change", "C5:White"),
            ("survey_shift", "C2:scrqol:Asian")} <= groups
    assert doc["notebook"] == NOTEBOOK and doc["parameters"]["la_code"] == report.council


def test_outputs_show_no_identifiers_or_stray_values(published):
    report = published(NOTEBOOK)
    assert report.stray_outputs() == []
    text = report.readable_text()
    assert "person_id" not in text and "BAME" not in text and "Traceback" not in text



def test_every_drawn_run_chart_says_a_signal_is_not_proof_the_change_worked(published):
    # issue 17: after a change with no effect planted, most synthetic run charts still signal
    text = published(NOTEBOOK).readable_text()
    drawn = text.count("Run chart limits around")
    assert text.count(SPC_CAUTION.split(":")[0]) == drawn
