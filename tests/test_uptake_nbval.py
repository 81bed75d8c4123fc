"""Notebook 01_uptake under `pytest --nbval-lax` with its default parameters, the data folder
given by $EVALKIT_DATA_DIR (as a researcher opening it in JupyterLab would run it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from evalkit.data.synth import synthesise
from evalkit.paths import NOTEBOOK_DIR


def test_notebook_passes_nbval_lax(tmp_path):
    data = synthesise(tmp_path / "data", scale=0.2, seed=4)
    nb = shutil.copy(NOTEBOOK_DIR / "01_uptake.ipynb", tmp_path / "01_uptake.ipynb")
    env = {**os.environ, "EVALKIT_DATA_DIR": str(data), "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider",
                          "-p", "no:xdist", "-q", str(nb)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert (tmp_path / "results.json").is_file()
