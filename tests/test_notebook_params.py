"""Every documented value of every notebook parameter works (issue 18): each notebook's committed
code cells are run in this process, as papermill would run them, with one parameter changed
from its default (beside it at most one of la_code, min_cell and comparators_file, which every
notebook shares), on a small synthetic Leicester; the run must reach its record cell and write
results.json and key_findings.md. A documented value that crashes a cell fails here, naming the
cell."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import matplotlib
import nbformat
import pandas as pd
import pytest

import evalkit
from evalkit.analyses.comparators import compute
from evalkit.paths import NOTEBOOK_DIR, resolve_data_dir
from evalkit.run import england
from evalkit.synth.generator import synthesise

matplotlib.use("Agg")
PACKAGE = Path(evalkit.__file__).parent

#: the synthetic council (Leicester), and two others for the comparator table
LEICESTER, DERBY, BIRMINGHAM = "E06000016", "E06000015", "E08000025"
#: stands for the path of a published england.csv (the `england_csv` fixture)
ENGLAND_CSV = "<england.csv>"

#: (notebook, parameters): the values each parameters cell documents, other than defaults. A run
#: sets one notebook-specific value, with at most one or two of the common ones (la_code,
#: min_cell, comparators_file) beside it, so that covering them adds no run.
DOCUMENTED = [
    ("01_uptake", {"group_level": "detailed"}),
    ("01_uptake", {"reference_group": "Asian"}),
    ("01_uptake", {"period_end": "2025-12-31", "comparators_file": ENGLAND_CSV}),
    ("01_uptake", {"lookback": 4, "la_code": LEICESTER}),
    ("01_uptake", {"la_code": "all", "min_cell": 10}),
    ("02_pa_market", {"snapshot_date": "2025-04-01", "comparators_file": ENGLAND_CSV}),
    ("02_pa_market", {"area_level": "la_code", "la_code": "all"}),
    ("02_pa_market", {"target_days": [28], "min_cell": 10}),
    ("02_pa_market", {"discharge_target_days": 14, "la_code": LEICESTER}),
    ("03_outcomes", {"change_id": "C2", "la_code": LEICESTER}),
    ("03_outcomes", {"outcome": "dp_share"}),
    ("03_outcomes", {"outcome": "dp_offer_rate"}),
    ("03_outcomes", {"outcome": "setup_days"}),
    ("03_outcomes", {"comparison": "teams"}),
    ("03_outcomes", {"comparison": "groups"}),
    ("03_outcomes", {"comparison": "councils"}),
    ("03_outcomes", {"comparison": "none"}),
    ("03_outcomes", {"pre_months": 12, "la_code": "all"}),
    ("03_outcomes", {"post_months": 6, "min_cell": 10}),
    ("03_outcomes", {"alpha": 0.1}),
    ("03_outcomes", {"recalculate_limits": True}),
    ("03_outcomes", {"trend_length": 6}),
    ("03_outcomes", {"shift_length": 8}),
    ("03_outcomes", {"detect_ratio": 1.5}),
]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    """A DOCUMENTED case's test id, e.g. 02_pa_market-target_days=[28]-min_cell=10."""
    name, parameters = case
    return "-".join([name, *(f"{k}={v}" for k, v in parameters.items())])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return synthesise(tmp_path_factory.mktemp("leic") / "data", scale=0.1, seed=1)


@pytest.fixture(scope="module")
def england_csv(tmp_path_factory) -> Path:
    """A published england.csv (`evalkit.run.england.write`) of a small hand-made comparator
    table holding Leicester, as a council running its own data gives it."""
    folder = tmp_path_factory.mktemp("england")
    rows = [(la, measure, "Everyone", num, 1000) for la, num in
            [(LEICESTER, 400), (DERBY, 300), (BIRMINGHAM, 350)]
            for measure in compute.MEASURES if measure != "dp_share_group"]
    rows += [(la, "dp_share_group", group, 120, 400) for la in (LEICESTER, DERBY, BIRMINGHAM)
             for group in ("Asian", "White")]
    table = pd.DataFrame(rows, columns=["area_code", "measure", "group", "numerator",
                                        "denominator"]).assign(area_type=compute.COUNCIL)
    compute.with_totals(table[compute.COLUMNS]).to_parquet(folder / "table.parquet")
    return england.write(folder / "table.parquet", folder, 5)[1]


def run_cells(name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Run the committed notebook's code cells in order, with `parameters` set after its
    parameters cell (as papermill injects them), and give the names they set; a failing cell is
    named in the error. The settings the notebook makes (`style.notebook_settings`: matplotlib's
    rc, pandas' string storage) are undone after it, so later tests in this process start from
    the defaults."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    scope: dict[str, Any] = {}
    with matplotlib.rc_context(), pd.option_context("mode.string_storage",
                                                    pd.get_option("mode.string_storage")):
        for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            source = cell.source
            if "parameters" in cell.metadata.get("tags", []):
                source += "".join(f"\n{k} = {v!r}" for k, v in parameters.items())
            try:
                exec(compile(source, f"{name} code cell {i}", "exec"), scope)  # noqa: S102
            except Exception as e:
                raise AssertionError(f"{name} with {parameters}: code cell {i} failed: {e!r}\n"
                                     f"{cell.source}") from e
    return scope


@pytest.mark.parametrize(("name", "parameters"), DOCUMENTED, ids=map(case_id, DOCUMENTED))
def test_documented_value_runs(data_dir, england_csv, tmp_path, name, parameters):
    results = tmp_path / "out" / "results.json"
    given = {k: str(england_csv) if v == ENGLAND_CSV else v for k, v in parameters.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scope = run_cells(name, {"data_dir": str(data_dir), "results_path": str(results),
                                 **given})
    # no warning raised from evalkit's own lines (e.g. numpy's "All-NaN slice" over a chart's
    # suppressed months): a notebook's reader would see it under a cell
    assert not [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
                if Path(w.filename).is_relative_to(PACKAGE)]
    assert json.loads(results.read_text())["notebook"] == name
    assert (results.parent / "key_findings.md").read_text().startswith("# Key findings")
    if "comparators_file" in parameters:  # the file's rows were read and compared, not skipped
        comparisons = scope["cmp"]["comparisons"]
        assert comparisons is not None and len(comparisons), scope["cmp"].context["reason"]


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
