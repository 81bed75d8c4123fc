"""`evalkit template pa_register --out FILE.xlsx`: the agencies' six-monthly PA return.

The workbook has an `instructions` sheet, a `pa_register` sheet with the contract's columns and
drop-down lists (data validation) for ethnicity, gender and status, a languages hint list, date
and number checks, and a `codes` sheet holding the lists. `evalkit.load` reads the `pa_register`
sheet of a filled-in copy; put the agencies' files in a folder `pa_register/` to combine them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from evalkit.data import codes
from evalkit.data.contract import TABLES
from evalkit.data.read import TEMPLATE_SHEETS

ROWS = 2000  # rows prepared with drop-downs
TEMPLATES = ("pa_register",)
INSTRUCTIONS, CODES = TEMPLATE_SHEETS  # the loader knows these sheets hold no table

HELP = {
    "snapshot_date": "Date the list was taken, YYYY-MM-DD (e.g. 2026-03-31), 2015 or later",
    "pa_id": "Your reference for the PA (no names); the same PA keeps the same id",
    "agency": "Your agency's name",
    "ethnicity": "Pick from the list (ONS 2021 groups)",
    "gender": "Male, Female, Other or Unknown",
    "languages": "Every language the PA speaks well enough to support someone, separated by ; "
                 "(e.g. English;Gujarati). The list suggests names; others are accepted",
    "area_code": "ONS ward or LSOA 2021 code of where the PA lives (e.g. E01013597); the "
                 "council compares it with where the people who need a PA live",
    "status": "active (taking work), inactive (on the list, not taking work) or left",
    "hours_available": "Hours a week the PA could take on now (0-168); blank if not known",
    "religion": "Optional: only if the PA chose to tell you",
}
#: What files from other systems may hold beyond a drop-down list: `evalkit validate` accepts
#: it, the template's cell does not (it takes only the list), so the help keeps the two apart.
ELSEWHERE = {
    "ethnicity": "Only the list can be entered here; files exported from a case-management "
                 "system may hold NHS codes A-H, J-N, P, R, S or Z instead (evalkit validate "
                 "accepts them)",
}


def help_text(name: str) -> str:
    """The whole help of column `name`: what its cell takes, then what other files may hold."""
    return f"{HELP[name]}. {ELSEWHERE[name]}" if name in ELSEWHERE else HELP[name]


def _lists(book: Workbook) -> dict[str, str]:
    """Write the code lists on a `codes` sheet; return column name -> range formula."""
    sheet = book.create_sheet(CODES)
    lists = {"ethnicity": codes.ETHNIC_GROUP_LABELS, "gender": codes.GENDERS,
             "status": codes.PA_STATUSES, "languages": codes.LANGUAGE_NAMES}
    ranges = {}
    for j, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(j)
        sheet.cell(1, j, name).font = Font(bold=True)
        for i, value in enumerate(values, start=2):
            sheet.cell(i, j, value)
        ranges[name] = f"{CODES}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def _instructions(book: Workbook, columns: list[str]) -> None:
    sheet = book.active
    sheet.title = INSTRUCTIONS
    lines = [
        "Personal Assistant register: six-monthly return",
        "",
        "Fill in one row per PA on the 'pa_register' sheet. Do not rename the sheet or the "
        "column headings. Do not write names, addresses or phone numbers.",
        "Use the drop-down lists where a cell has one. Dates as YYYY-MM-DD.",
        "Rows with a blank required cell, an unknown code or a date in the future are "
        "excluded and counted when the council loads the file (evalkit validate shows them).",
        "",
        "Column: what to enter",
        *(f"{c}: {help_text(c)}" for c in columns),
    ]
    for i, line in enumerate(lines, start=1):
        sheet.cell(i, 1, line)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120


def write_template(table: str, out: Path) -> Path:
    """Write the Excel return for `table` (only "pa_register") to `out`."""
    if table not in TEMPLATES:
        raise ValueError(f"template: table must be one of {', '.join(TEMPLATES)}, not {table!r}")
    columns = [c.name for c in TABLES[table]]
    book = Workbook()
    _instructions(book, columns)
    sheet = book.create_sheet(table)
    ranges = _lists(book)
    for j, name in enumerate(columns, start=1):
        cell = sheet.cell(1, j, name)
        cell.font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(j)].width = max(14, len(name) + 4)
    sheet.freeze_panes = "A2"

    def validate(name: str, dv: DataValidation) -> None:
        letter = get_column_letter(columns.index(name) + 1)
        dv.prompt, dv.promptTitle, dv.showInputMessage = help_text(name)[:255], name, True
        dv.error = f"This is not a value the {name} column accepts. {help_text(name)}"[:255]
        dv.errorTitle = name
        sheet.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{ROWS + 1}")

    for name in ("ethnicity", "gender", "status"):  # Excel refuses anything not in the list
        validate(name, DataValidation(type="list", formula1=ranges[name], allow_blank=True,
                                      showErrorMessage=True, errorStyle="stop"))
    validate("languages", DataValidation(type="list", formula1=ranges["languages"],
                                         allow_blank=True, showErrorMessage=False))
    validate("snapshot_date", DataValidation(type="date", operator="greaterThanOrEqual",
                                             formula1="DATE(2015,1,1)", allow_blank=True,
                                             showErrorMessage=True, errorStyle="stop"))
    validate("hours_available", DataValidation(type="decimal", operator="between",
                                               formula1="0", formula2="168", allow_blank=True,
                                               showErrorMessage=True, errorStyle="stop"))
    for row in range(2, ROWS + 2):
        sheet.cell(row, columns.index("snapshot_date") + 1).number_format = "yyyy-mm-dd"
    book.active = book.sheetnames.index(table)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `evalkit template`."""
    parser.add_argument("table", choices=TEMPLATES, help="which return to write")
    parser.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")


def main(args: argparse.Namespace) -> int:
    """Write the template and say where."""
    path = write_template(args.table, args.out)
    print(f"Wrote {path}: send it to each agency; put the returned files in a folder "
          f"{args.table}/ inside the data folder")
    return 0
