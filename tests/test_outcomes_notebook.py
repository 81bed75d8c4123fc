"""Notebook 03: committed clean with the sections in order, runs under papermill on a small
synthetic folder (results.json checked), and passes `pytest --nbval-lax` with EVALKIT_DATA_DIR."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import nbformat
import papermill as pm
import pytest

from evalkit.data.synth import synthesise
from evalkit.paths import NOTEBOOK_DIR

NOTEBOOK = NOTEBOOK_DIR / "03_outcomes.ipynb"
SECTIONS = ["Key findings", "Data", "Run charts and SPC", "Interrupted time series",
            "Controlled comparison", "Experience", "What people told us",
            "How long until we would know", "Methods and caveats"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return synthesise(tmp_path_factory.mktemp("o03nb") / "data", scale=0.2, seed=4)


def test_notebook_is_committed_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1
    heads = [c.source[3:] for c in nb.cells if c.cell_type == "markdown"
             and c.source.startswith("## ")]
    assert heads == SECTIONS


def test_notebook_runs_under_papermill_and_records_results(folder, tmp_path):
    results = tmp_path / "results.json"
    nb = pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"), cwd=str(tmp_path),
                             parameters={"data_dir": str(folder), "results_path": str(results)},
                             progress_bar=False)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    doc = json.loads(results.read_text())
    groups = {(e["name"], e["group"]) for e in doc["estimates"]}
    assert {("its_level_change", "C2:Asian"), ("its_slope_change", "C5:White"),
            ("survey_shift", "C2:scrqol:Asian")} <= groups
    assert doc["notebook"] == "03_outcomes" and doc["parameters"]["la_code"] == "E06000016"
    text = json.dumps(nb.cells)
    assert "person_id" not in text and "BAME" not in text and "Traceback" not in text


def test_nbval_lax_passes(folder, tmp_path):
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    env = {**os.environ, "EVALKIT_DATA_DIR": str(folder)}
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p",
                          "no:cacheprovider", "-p", "no:xdist", str(copy)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
