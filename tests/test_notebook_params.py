"""Every documented value of every notebook parameter works (issue 18): each notebook's committed
code cells are run in this process, as papermill would run them, with one parameter changed
from its default, on a small synthetic Leicester; the run must reach its record cell and write
results.json and key_findings.md. A documented value that crashes a cell fails here, naming the
cell."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import matplotlib
import nbformat
import pytest

import evalkit
from evalkit.paths import NOTEBOOK_DIR, resolve_data_dir
from evalkit.synth.generator import synthesise

matplotlib.use("Agg")
PACKAGE = Path(evalkit.__file__).parent

#: (notebook, parameter, value): the values each parameters cell documents, other than defaults
DOCUMENTED = [
    ("01_uptake", "group_level", "detailed"),
    ("01_uptake", "reference_group", "Asian"),
    ("01_uptake", "period_end", "2025-12-31"),
    ("01_uptake", "lookback", 4),
    ("01_uptake", "la_code", "all"),
    ("02_pa_market", "snapshot_date", "2025-04-01"),
    ("02_pa_market", "area_level", "la_code"),
    ("02_pa_market", "target_days", [28]),
    ("02_pa_market", "discharge_target_days", 14),
    ("03_outcomes", "change_id", "C2"),
    ("03_outcomes", "outcome", "dp_share"),
    ("03_outcomes", "outcome", "dp_offer_rate"),
    ("03_outcomes", "outcome", "setup_days"),
    ("03_outcomes", "comparison", "teams"),
    ("03_outcomes", "comparison", "groups"),
    ("03_outcomes", "comparison", "councils"),
    ("03_outcomes", "comparison", "none"),
    ("03_outcomes", "pre_months", 12),
    ("03_outcomes", "post_months", 6),
    ("03_outcomes", "alpha", 0.1),
    ("03_outcomes", "recalculate_limits", True),
    ("03_outcomes", "trend_length", 6),
    ("03_outcomes", "shift_length", 8),
    ("03_outcomes", "detect_ratio", 1.5),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return synthesise(tmp_path_factory.mktemp("leic") / "data", scale=0.1, seed=1)


def run_cells(name: str, parameters: dict[str, Any]) -> None:
    """Run the committed notebook's code cells in order, with `parameters` set after its
    parameters cell (as papermill injects them); a failing cell is named in the error."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    scope: dict[str, Any] = {}
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        source = cell.source
        if "parameters" in cell.metadata.get("tags", []):
            source += "".join(f"\n{k} = {v!r}" for k, v in parameters.items())
        try:
            exec(compile(source, f"{name} code cell {i}", "exec"), scope)  # noqa: S102
        except Exception as e:
            raise AssertionError(f"{name} with {parameters}: code cell {i} failed: {e!r}\n"
                                 f"{cell.source}") from e


@pytest.mark.parametrize(("name", "parameter", "value"), DOCUMENTED)
def test_documented_value_runs(data_dir, tmp_path, name, parameter, value):
    results = tmp_path / "out" / "results.json"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_cells(name, {"data_dir": str(data_dir), "results_path": str(results),
                         parameter: value})
    # no warning raised from evalkit's own lines (e.g. numpy's "All-NaN slice" over a chart's
    # suppressed months): a notebook's reader would see it under a cell
    assert not [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
                if Path(w.filename).is_relative_to(PACKAGE)]
    assert json.loads(results.read_text())["notebook"] == name
    assert (results.parent / "key_findings.md").read_text().startswith("# Key findings")


def test_no_demo_folder_says_how_to_make_it(tmp_path, monkeypatch):
    """A notebook opened before `make report` (data_dir None, no demo folder) is told how to
    make the demo data, not shown a loader traceback."""
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError) as e:
        resolve_data_dir(None)
    assert str(tmp_path / "missing") in str(e.value)
    assert "`make report`" in str(e.value)
    assert ("`evalkit synth --out data/demo --profile leicester --seed 1 --format cld`"
            in str(e.value))
    assert resolve_data_dir(tmp_path / "given") == tmp_path / "given"  # checked by the loader
    monkeypatch.setenv("EVALKIT_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(None) == tmp_path
