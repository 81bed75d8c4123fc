"""Notebook 02: committed clean, runs under papermill on a small synthetic folder, and passes
`pytest --nbval-lax` with EVALKIT_DATA_DIR set."""

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

NOTEBOOK = NOTEBOOK_DIR / "02_pa_market.ipynb"
SECTIONS = ["Key findings", "Data", "Who the PAs are", "Language coverage", "Time to recruit",
            "Match achieved", "Change between snapshots", "Methods and caveats"]


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory):
    return synthesise(tmp_path_factory.mktemp("pa02") / "data", scale=0.2, seed=3)


def test_notebook_is_committed_thin_and_clean():
    assert committed_headings(NOTEBOOK) == SECTIONS


def test_papermill_run_writes_results_and_findings(small_folder, tmp_path):
    results = tmp_path / "results.json"
    executed = run_papermill(NOTEBOOK, tmp_path, {"data_dir": str(small_folder),
                                                  "results_path": str(results)})
    doc = json.loads(results.read_text())
    names = {e["name"] for e in doc["estimates"]}
    assert {"recruitment_hazard_ratio", "language_gap"} <= names
    hr = {e["group"] for e in doc["estimates"] if e["name"] == "recruitment_hazard_ratio"}
    assert {"language", "ethnicity", "gender", "hospital_discharge"} <= hr
    findings = (tmp_path / "key_findings.md").read_text()
    assert findings.count("\n- ") >= 2 and "BAME" not in findings
    assert stray_outputs(executed.cells) == []
    text = readable_text(executed.cells)
    assert "Traceback" not in text and "PA0000" not in text  # no PA identifiers shown


def test_nbval_lax_passes(small_folder, tmp_path):
    assert_nbval_lax_passes(NOTEBOOK, small_folder, tmp_path)
