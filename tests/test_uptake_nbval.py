"""Notebook 01_uptake under `pytest --nbval-lax` with its default parameters, the data folder
given by $EVALKIT_DATA_DIR (as a researcher opening it in JupyterLab would run it)."""

from __future__ import annotations

from notebook_checks import assert_nbval_lax_passes

from evalkit.paths import NOTEBOOK_DIR
from evalkit.synth.generator import synthesise


def test_notebook_passes_nbval_lax(tmp_path):
    data = synthesise(tmp_path / "data", scale=0.2, seed=4)
    assert_nbval_lax_passes(NOTEBOOK_DIR / "01_uptake.ipynb", data, tmp_path)
    assert (tmp_path / "results.json").is_file()
