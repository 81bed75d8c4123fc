"""`evalkit validate` names the rows (as the file numbers them, the header being row 1) set
aside for every reason, not only unknown codes, and quotes nothing of a person's row."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest
from helpers.tables import make_clean_tables, write_tables

from evalkit.data.load import add_arguments, load, main

N = 30


@pytest.fixture()
def dirty(tmp_path):
    """Episodes with one defect each at known data rows (0-based; file row = index + 2)."""
    df = make_clean_tables(seed=0, n=N)["support_episodes"]
    df.loc[3, "person_id"] = ""
    df.loc[5, "start_date"] = "2099-01-01"
    df.loc[[7, 8], "end_date"] = "2001-01-01"
    df.loc[11, "gender"] = "Zorro"
    df = pd.concat([df, df.iloc[[20]]], ignore_index=True)  # a duplicate of row 22, at row 32
    return write_tables({"support_episodes": df}, tmp_path), df


def test_dataset_knows_where_each_exclusion_is(dirty):
    folder, _ = dirty
    ex = load(folder, extract_date="2026-03-31").exclusions.set_index("reason")["where"]
    assert ex["blank_required:person_id"] == "row 5"
    assert ex["future_date:start_date"] == "row 7"
    assert ex["end_before_start"] == "rows 9, 10"
    assert ex["duplicate_row"] == f"row {N + 2}"
    assert ex["unknown_code:gender"] == "row 13"


def test_validate_prints_the_rows_under_every_reason_quoting_no_person_data(dirty, capsys):
    folder, df = dirty
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert main(parser.parse_args([str(folder), "--extract-date", "2026-03-31"])) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for reason, rows in [("blank, and it is required", "row 5"),
                         ("after the extract date", "row 7"),
                         ("ends before it starts", "rows 9, 10"),
                         ("the same as an earlier row", f"row {N + 2}")]:
        at = next(i for i, line in enumerate(lines) if reason in line)
        assert lines[at + 1].strip() == rows, out
    assert "row 13" in out  # the unknown code's own line names its row
    kept_out = df.loc[[5, 7, 8, 20], ["person_id", "start_date", "end_date"]].to_numpy().ravel()
    assert not [v for v in kept_out if v and str(v) in out]
