"""The agencies' Excel return: drop-downs, and a filled-in copy loads with no exclusions."""

from __future__ import annotations

import argparse
import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest

from evalkit.data import codes
from evalkit.data.contract import TABLES
from evalkit.data.load import load
from evalkit.data.template import ELSEWHERE, HELP, add_arguments, help_text, main, write_template
from evalkit.data.values import OK, parse_column


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


def _by_column(template) -> tuple[openpyxl.Workbook, dict]:
    """The workbook and its pa_register validations by column name."""
    book = openpyxl.load_workbook(template)
    sheet = book["pa_register"]
    header = [c.value for c in sheet[1]]
    return book, {header[sheet[str(dv.sqref).split(":")[0]].column - 1]: dv
                  for dv in sheet.data_validations.dataValidation}


def _list_values(book: openpyxl.Workbook, formula: str) -> list[str]:
    """The values of a range-based list validation (`codes!$A$2:$A$21`)."""
    sheet, ref = formula.split("!")
    return [row[0].value for row in book[sheet][ref.replace("$", "")]]


def _loader_accepts(name: str, texts: list[str]) -> list[str]:
    """The texts that `evalkit validate` accepts as a pa_register `name` value (status OK)."""
    col = next(c for c in TABLES["pa_register"] if c.name == name)
    _, status = parse_column(col, "pa_register", pd.Series(texts, dtype=object))
    return [t for t, s in zip(texts, status, strict=True) if s == OK]


def _phrases(text: str, longest: int = 4) -> list[str]:
    """Every run of up to `longest` words in `text`: the values a help text could name."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    return [" ".join(words[i:i + n]) for n in range(1, longest + 1)
            for i in range(len(words) - n + 1)]


def test_drop_down_help_names_exactly_what_the_list_accepts(template):
    """A value the help names (that the loader would take) must be in the drop-down list, and
    the help names the whole list or says to pick from it: "NHS codes A-Z are also accepted"
    beside a list that refuses them was the defect this guards against."""
    book, dvs = _by_column(template)
    lists = {n: dv for n, dv in dvs.items() if dv.type == "list" and dv.showErrorMessage}
    assert set(lists) == {"ethnicity", "gender", "status"}
    for name, dv in lists.items():
        allowed = {codes.key(v) for v in _list_values(book, dv.formula1)}
        named = {codes.key(p) for p in _loader_accepts(name, _phrases(HELP[name]))}
        assert named <= allowed, (name, named - allowed)
        assert HELP[name].startswith("Pick from the list") or named == allowed, name
    hint = dvs["languages"]  # a list that refuses nothing must say so
    assert hint.type == "list" and not hint.showErrorMessage
    assert "others are accepted" in HELP["languages"]


def test_what_other_files_may_hold_is_what_the_loader_accepts(template):
    """The NHS codes the ethnicity help names are exactly the ones the loader maps, and none of
    them is in the drop-down (so the help must say the cell does not take them)."""
    book, dvs = _by_column(template)
    assert set(ELSEWHERE) == {"ethnicity"}
    named = set()
    for first, last in re.findall(r"\b([A-Z])(?:-([A-Z]))?\b", ELSEWHERE["ethnicity"]):
        named |= {chr(c) for c in range(ord(first), ord(last or first) + 1)}
    assert named == set(codes.NHS_ETHNIC_CODES)
    assert _loader_accepts("ethnicity", sorted(named)) == sorted(named)
    assert not named & set(_list_values(book, dvs["ethnicity"].formula1))
    assert "Only the list can be entered here" in ELSEWHERE["ethnicity"]


def test_bounds_and_help_agree_and_nothing_is_cut(template):
    """Date and number checks state their bounds in the help; prompts and error messages fit
    Excel's 255 characters whole."""
    _, dvs = _by_column(template)
    date = dvs["snapshot_date"]
    assert (date.operator, date.formula1) == ("greaterThanOrEqual", "DATE(2015,1,1)")
    assert "2015 or later" in HELP["snapshot_date"]
    hours = dvs["hours_available"]
    assert (hours.operator, f"({hours.formula1}-{hours.formula2})") == ("between", "(0-168)")
    assert "(0-168)" in HELP["hours_available"]
    for name, dv in dvs.items():
        assert dv.prompt == help_text(name) and dv.error.endswith(help_text(name)), name
