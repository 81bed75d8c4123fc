"""The agencies' Excel return: drop-downs, and a filled-in copy loads with no exclusions."""

from __future__ import annotations

import argparse
import datetime as dt

import openpyxl
import pytest

from evalkit.data import codes
from evalkit.data.load import load
from evalkit.data.template import add_arguments, main, write_template


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return write_template("pa_register", tmp_path_factory.mktemp("t") / "return.xlsx")


def _validations(sheet):
    return {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}


def test_workbook_has_instructions_lists_and_dropdowns(template):
    book = openpyxl.load_workbook(template)
    assert {"instructions", "pa_register", "codes"} <= set(book.sheetnames)
    sheet = book["pa_register"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["snapshot_date", "pa_id", "agency"]
    dvs = _validations(sheet)
    col = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate(header)}
    for name in ("ethnicity", "gender", "status", "languages"):
        assert dvs[f"{col[name]}2"].type == "list", name
    assert dvs[f"{col['languages']}2"].showErrorMessage is False  # a hint, not a rule
    for name in ("ethnicity", "gender", "status", "snapshot_date", "hours_available"):
        dv = dvs[f"{col[name]}2"]  # a mistyped value is refused by Excel, with a sentence
        assert dv.showErrorMessage is True and dv.errorStyle == "stop", name
        assert dv.error.startswith(f"This is not a value the {name} column accepts."), name
    codes_sheet = book["codes"]
    lists = {codes_sheet.cell(1, j).value: [codes_sheet.cell(i, j).value
                                            for i in range(2, codes_sheet.max_row + 1)
                                            if codes_sheet.cell(i, j).value]
             for j in range(1, codes_sheet.max_column + 1)}
    assert lists["ethnicity"] == list(codes.ETHNIC_GROUP_LABELS)
    assert lists["status"] == ["active", "inactive", "left"]
    assert "Somali" in lists["languages"]


def test_filled_copy_loads_with_no_exclusions(template, tmp_path):
    book = openpyxl.load_workbook(template)
    sheet = book["pa_register"]
    header = [c.value for c in sheet[1]]
    rows = [
        {"snapshot_date": dt.datetime(2026, 3, 31), "pa_id": "A1", "agency": "Care Co",
         "ethnicity": "Asian or Asian British: Indian", "gender": "Female",
         "languages": "English;Gujarati", "area_code": "E01013597", "status": "active",
         "hours_available": 20},
        {"snapshot_date": dt.datetime(2026, 3, 31), "pa_id": "A2", "agency": "Care Co",
         "ethnicity": "Black, Black British, Caribbean or African: African", "gender": "Male",
         "languages": "Somali", "area_code": "E01013598", "status": "inactive",
         "hours_available": None, "religion": "Muslim"},
        {"snapshot_date": dt.datetime(2026, 3, 31), "pa_id": 3, "agency": "Care Co",
         "ethnicity": "Not stated", "gender": "Unknown", "languages": None,
         "area_code": "E01013599", "status": "left", "hours_available": 7.5},
    ]
    for i, row in enumerate(rows, start=2):
        for name, value in row.items():
            sheet.cell(i, header.index(name) + 1, value)
    folder = tmp_path / "data"
    folder.mkdir()
    book.save(folder / "pa_register.xlsx")
    data = load(folder, extract_date="2026-04-01")
    assert data.quality["reason"].tolist() == ["kept"]
    assert data.quality["rows"].tolist() == [3]
    reg = data.pa_register
    assert reg["pa_id"].tolist() == ["A1", "A2", "3"]
    assert reg["languages"].tolist() == ["English;Gujarati", "Somali", "Not recorded"]
    assert reg["ethnic_group_broad"].tolist() == ["Asian", "Black", "Not stated"]


def test_cli_writes_the_file(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = tmp_path / "sub" / "pa.xlsx"
    assert main(parser.parse_args(["pa_register", "--out", str(out)])) == 0
    assert out.exists() and "pa_register/" in capsys.readouterr().out


def test_unknown_table_is_refused(tmp_path):
    with pytest.raises(ValueError, match="template: table must be one of pa_register, not 'x'"):
        write_template("x", tmp_path / "x.xlsx")
