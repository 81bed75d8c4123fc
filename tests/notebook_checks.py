"""Checks shared by the analysis-notebook tests: committed clean, run under papermill, and run
under `pytest --nbval-lax` as a researcher opening the notebook with $EVALKIT_DATA_DIR would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill as pm
from nbformat import NotebookNode


def committed_headings(notebook: Path) -> list[str]:
    """The `## ` section headings of a notebook, after checking it is committed clean: python3
    kernel, no outputs or execution counts, exactly one `parameters` cell, and the frame of
    DESIGN.md (Key findings, Data, ..., Methods and caveats)."""
    nb = nbformat.read(notebook, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    headings = [c.source[3:].strip() for c in nb.cells
                if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert headings[:2] == ["Key findings", "Data"] and headings[-1] == "Methods and caveats"
    return headings


IMAGE_DATA = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+")


def readable_text(cells: list) -> str:
    """The cells (sources and outputs) as JSON text without image data: base64 is random
    letters, and a word such as "BAME" turns up in a PNG now and then."""
    cells = [{**c, "outputs": [{**o, "data": {k: v for k, v in o.get("data", {}).items()
                                             if not k.startswith("image/")}}
                               for o in c.get("outputs", [])]} for c in cells]
    return IMAGE_DATA.sub("data:image", json.dumps(cells))


def stray_outputs(cells: list) -> list[str]:
    """Sources of cells that print their last expression's value (an `execute_result`, e.g. a
    path or a list) or write to stderr (a library's warning): a report shows only what evalkit
    displays on purpose."""
    def stray(o: dict) -> bool:
        return o.get("output_type") == "execute_result" or o.get("name") == "stderr"

    return [c.source for c in cells if c.get("cell_type") == "code"
            and any(stray(o) for o in c.get("outputs", []))]


def run_papermill(notebook: Path, tmp_path: Path, parameters: dict) -> NotebookNode:
    """Execute `notebook` in `tmp_path` with `parameters`; every code cell must have run."""
    nb = pm.execute_notebook(str(notebook), str(tmp_path / notebook.name), kernel_name="python3",
                             cwd=str(tmp_path), parameters=parameters, progress_bar=False)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    return nb


def assert_nbval_lax_passes(notebook: Path, data_dir: Path, tmp_path: Path) -> None:
    """Run a copy of `notebook` in `tmp_path` under `pytest --nbval-lax` with its default
    parameters and $EVALKIT_DATA_DIR = `data_dir`; fail with the run's output tail."""
    copy = shutil.copy(notebook, tmp_path / notebook.name)
    env = {**os.environ, "EVALKIT_DATA_DIR": str(data_dir), "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p",
                          "no:cacheprovider", "-p", "no:xdist", str(copy)], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
