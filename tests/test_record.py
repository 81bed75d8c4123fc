"""results.json: the shape DESIGN.md gives; NaN as null, numpy types as JSON, extra keys kept."""

from __future__ import annotations

import json
import stat

import numpy as np
import pandas as pd
import pytest

from evalkit.report.findings import write_key_findings
from evalkit.report.record import read_results, record


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["uptake_odds_ratio", "uptake_odds_ratio"],
        "group": ["Asian", "Black"],
        "reference": ["White", "White"],
        "value": np.array([0.71, 0.9], dtype=np.float32),
        "lower": [0.64, np.nan],
        "upper": [0.79, np.inf],
        "conf": [0.95, 0.95],
        "n": np.array([1234, 56], dtype=np.int64),
        "method": ["GLM", "GLM"],
    })


def test_writes_design_shape(tmp_path):
    path = record(_frame(), notebook="01_uptake", parameters={"la_code": "E06000016"},
                  path=tmp_path / "results.json")
    doc = json.loads(path.read_text())
    assert doc["notebook"] == "01_uptake"
    assert doc["parameters"] == {"la_code": "E06000016"}
    first = doc["estimates"][0]
    assert first["name"] == "uptake_odds_ratio" and first["group"] == "Asian"
    assert first["reference"] == "White"
    assert first["value"] == pytest.approx(0.71, rel=1e-6)
    assert (first["lower"], first["upper"], first["conf"]) == (0.64, 0.79, 0.95)
    assert first["n"] == 1234 and isinstance(first["n"], int)


def test_nan_and_inf_are_null_and_extra_keys_kept(tmp_path):
    path = record(_frame(), notebook="01_uptake", parameters={}, path=tmp_path / "r.json")
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    second = json.loads(text)["estimates"][1]
    assert second["lower"] is None and second["upper"] is None
    assert second["method"] == "GLM"


def test_list_of_dicts_missing_keys_become_null(tmp_path):
    est = [{"name": "language_gap", "group": "Somali", "value": np.float64(0.4),
            "note": "few PAs"}]
    params = {"min_cell": np.int64(5), "data_dir": tmp_path,
              "period_end": np.datetime64("2026-03-31"), "las": ("E06000016",)}
    path = record(est, notebook="02_pa_market", parameters=params, path=tmp_path / "r.json")
    doc = read_results(path)
    assert doc["parameters"] == {"min_cell": 5, "data_dir": str(tmp_path),
                                 "period_end": "2026-03-31T00:00:00", "las": ["E06000016"]}
    (row,) = doc["estimates"]
    assert row["reference"] is None and row["n"] is None and row["lower"] is None
    assert row["note"] == "few PAs" and row["value"] == 0.4


def test_overwrites_and_creates_folder(tmp_path):
    path = tmp_path / "out" / "results.json"
    record([{"name": "a", "value": 1.0}], notebook="03_outcomes", parameters={}, path=path)
    record([{"name": "b", "value": 2.0}], notebook="03_outcomes", parameters={}, path=path)
    assert [e["name"] for e in read_results(path)["estimates"]] == ["b"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]


def test_pd_na_in_nullable_column_is_null(tmp_path):
    df = pd.DataFrame({"name": ["x"], "value": [1.5],
                       "n": pd.array([pd.NA], dtype="Int64")})
    path = record(df, notebook="01_uptake", parameters={}, path=tmp_path / "r.json")
    assert read_results(path)["estimates"][0]["n"] is None


def test_estimate_without_name_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="non-empty string 'name'; estimate 0"):
        record([{"value": 1.0}], notebook="01_uptake", parameters={}, path=tmp_path / "r.json")


def test_unserialisable_parameter_is_an_error(tmp_path):
    with pytest.raises(TypeError, match="cannot write a object"):
        record([], notebook="01_uptake", parameters={"x": object()}, path=tmp_path / "r.json")


def test_read_rejects_other_json(tmp_path):
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"effects": []}))
    with pytest.raises(ValueError, match="missing key"):
        read_results(path)


def test_results_and_key_findings_are_readable_by_everyone(tmp_path):
    """Published outputs are mode 644 whatever the process umask (mkstemp alone gives 600)."""
    path = record(_frame(), notebook="01_uptake", parameters={}, path=tmp_path / "results.json")
    findings = write_key_findings(["A finding."], tmp_path / "key_findings.md")
    assert {stat.S_IMODE(p.stat().st_mode) for p in (path, findings)} == {0o644}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key_findings.md", "results.json"]
