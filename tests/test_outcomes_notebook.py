"""Notebook 03: committed clean with the sections in order, runs under papermill on a small
synthetic folder (results.json checked), and passes `pytest --nbval-lax` with EVALKIT_DATA_DIR."""

from __future__ import annotations

import json

import pytest
from notebook_checks import (
    assert_nbval_lax_passes,
    committed_headings,
    readable_text,
    run_papermill,
    stray_outputs,
)

from evalkit.paths import NOTEBOOK_DIR
from evalkit.synth.generator import synthesise

NOTEBOOK = NOTEBOOK_DIR / "03_outcomes.ipynb"
SECTIONS = ["Key findings", "Data", "Run charts and SPC", "Interrupted time series",
            "Controlled comparison", "Experience", "What people told us",
            "How long until we would know", "Methods and caveats"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return synthesise(tmp_path_factory.mktemp("o03nb") / "data", scale=0.2, seed=4)


def test_notebook_is_committed_clean():
    assert committed_headings(NOTEBOOK) == SECTIONS


def test_notebook_runs_under_papermill_and_records_results(folder, tmp_path):
    results = tmp_path / "results.json"
    nb = run_papermill(NOTEBOOK, tmp_path, {"data_dir": str(folder),
                                            "results_path": str(results)})
    doc = json.loads(results.read_text())
    groups = {(e["name"], e["group"]) for e in doc["estimates"]}
    assert {("its_level_change", "C2:Asian"), ("its_slope_change", "C5:White"),
            ("survey_shift", "C2:scrqol:Asian")} <= groups
    assert doc["notebook"] == "03_outcomes" and doc["parameters"]["la_code"] == "E06000016"
    assert stray_outputs(nb.cells) == []
    text = readable_text(nb.cells)
    assert "person_id" not in text and "BAME" not in text and "Traceback" not in text


def test_nbval_lax_passes(folder, tmp_path):
    assert_nbval_lax_passes(NOTEBOOK, folder, tmp_path)
