"""Notebook 01_uptake end to end: papermill on a small synthetic folder, and every display
function with la_code = "all" on a small england-profile folder."""

from __future__ import annotations

import json

import matplotlib
import pytest
from notebook_checks import committed_headings, readable_text, run_papermill, stray_outputs
from test_uptake_edge import show_all

import evalkit
from evalkit.analyses import uptake as u
from evalkit.paths import NOTEBOOK_DIR
from evalkit.synth.generator import synthesise

matplotlib.use("Agg")
NOTEBOOK = NOTEBOOK_DIR / "01_uptake.ipynb"


@pytest.fixture(scope="module")
def leicester(tmp_path_factory):
    return synthesise(tmp_path_factory.mktemp("leic") / "data", scale=0.2, seed=2)


def test_notebook_is_committed_clean():
    assert "Uptake by ethnic group" in committed_headings(NOTEBOOK)


def test_notebook_runs_under_papermill_and_records_results(leicester, tmp_path):
    results = tmp_path / "results.json"
    nb = run_papermill(NOTEBOOK, tmp_path, {"data_dir": str(leicester),
                                            "results_path": str(results), "lookback": 4})
    code = [c for c in nb.cells if c.cell_type == "code"]
    doc = json.loads(results.read_text())
    names = {e["name"] for e in doc["estimates"]}
    assert {"uptake_odds_ratio", "uptake_share", "dp_offer_rate", "unpaid_carer_share",
            "dp_setup_time_ratio"} <= names
    groups = {(e["name"], e["group"]) for e in doc["estimates"]}
    assert ("uptake_odds_ratio", "Asian") in groups and ("dp_offer_rate", "White") in groups
    assert doc["notebook"] == "01_uptake" and doc["parameters"]["la_code"] == "E06000016"
    bullets = [s for s in (tmp_path / "key_findings.md").read_text().splitlines()
               if s.startswith("- ")]
    assert 3 <= len(bullets) <= 6
    assert stray_outputs(nb.cells) == []
    text = readable_text(nb.cells)
    assert "person_id" not in text and "BAME" not in text
    html = [o.get("data", {}).get("text/html", "") for c in code for o in c.outputs]
    charts = [h for h in html if "<img" in h]
    assert charts and all(' alt="' in h for h in charts)


def test_all_councils_on_an_england_folder(tmp_path):
    out = synthesise(tmp_path / "eng", profile="england", scale=0.005, seed=3)
    res = u.analyse(evalkit.load(out), la_code="all", lookback=2)
    assert res.la_code == "all" and res.snap["la_code"].nunique() > 1
    assert u.area_unit(res.snap) == "la_code"
    assert "la_code" in set(res.odds["factor"])  # a term per council
    show_all(res)
