"""Attacks on the privacy gate: identifiers planted in every format and place, person-level rows
without an id column, chart labels; the gate finds or refuses each, never repeats the identifier,
and does not flag the ordinary demo reports."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import evalkit
from evalkit.report import style
from evalkit.sdc import embedded, gate, labels, printed

COUNCIL = "E06000016"  # the council of the demo-like data (tests/conftest.py)
PEOPLE = pd.DataFrame({
    "person_id": ["LA/000123", "P12", "9434765919", "Q0000004", "Q0000005", "Q0000006"],
    "birth_year_month": ["1975-07", "1988-01", "1950-11", "1962-03", "1999-12", "1940-05"],
    "area_code": ["E05900007", "E05900031", "E05900002", "E05900007", "E05900011", "E05900019"],
    "gender": ["Male", "Female", "Female", "Male", "Female", "Male"],
    "ethnicity": ["K", "A", "M", "A", "N", "H"],
    "start_date": pd.to_datetime(["2019-03-20", "2024-10-29", "2021-01-04", "2022-06-30",
                                  "2023-02-14", "2020-08-08"]),
})
IDS = gate.identifiers({"support_episodes": PEOPLE,
                        "pa_register": pd.DataFrame({"pa_id": ["PA-00017"]}),
                        "survey": pd.DataFrame({"respondent_id": ["S00000001"]})})
#: Every identifier, in the forms a report might print it.
WRITTEN = ("LA/000123", "la 000123", "LA-000-123", "la000123", "P12", "p12", "9434765919",
           "943 476 5919", "943-476-5919", "pa00017", "PA 00017", "S00000001")


def clean(text: str) -> bool:
    """True when `text` holds no identifier, in any of its written forms."""
    folded = text.casefold()
    return not any(w.casefold() in folded for w in WRITTEN) and gate.redact(text, IDS) == text


def found(folder: Path, kind: str = "identifier") -> list[gate.Finding]:
    findings = gate.scan_folder(folder, IDS, 5)
    assert clean(json.dumps([f.as_dict() for f in findings]))
    return [f for f in findings if f.kind == kind]


def as_a_kernel_prints(frame: pd.DataFrame) -> str:
    """`frame` printed as in a Jupyter kernel (pandas wraps a wide frame only there)."""
    with pd.option_context("display.width", 80, "display.max_columns", 20):
        return repr(frame)


def notebook(*outputs: dict, source: str = "display(table)") -> str:
    nb = new_notebook(cells=[new_code_cell(source, outputs=list(outputs))])
    return nbformat.writes(nb)


@pytest.mark.parametrize("name, content", [
    ("short.html", "<p>Longest wait: person P12.</p>"),
    ("separators.html", "<table><tr><td>LA / 000123</td><td>12</td></tr></table>"),
    ("other_case.md", "- la-000-123 waited longest.\n"),
    ("digit_groups.md", "NHS number 943 476 5919 shows up.\n"),
    ("alt_text.html", "<img alt='Chart: 943-476-5919 is highest' src='data:image/png;base64,AA'>"),
    ("after_image.html", "<p>data:image/png;base64,iVBOR AA+/= LA000123 waited</p>"),
    ("title.html", "<html><head><title>pa00017</title></head><body></body></html>"),
    ("value.json", json.dumps({"estimates": [{"group": "PA 00017", "n": 12}]})),
    ("key.json", json.dumps({"s00000001": 1})),
    ("field.csv", "group,n\nLA000123,7\n"),
    ("output.ipynb", notebook(new_output("stream", name="stdout", text="Longest: P12\n"))),
    ("html_output.ipynb", notebook(new_output("display_data",
                                              data={"text/html": "<td>9434765919</td>"}))),
    ("source.ipynb", notebook(source="who = 'LA/000123'")),
    ("html_attribute.ipynb", notebook(new_output("display_data", data={
        "text/html": "<span title='LA/000123'>longest wait</span>"}))),
    ("svg_output.ipynb", notebook(new_output("display_data", data={
        "image/svg+xml": "<svg><text x='1' y='2'>pa00017</text></svg>"}))),
    ("error.ipynb", notebook(new_output("error", ename="KeyError", evalue="'S00000001'",
                                        traceback=["KeyError: 'S00000001'"]))),
    ("LA000123.txt", "a file named after a person\n"),
    ("split_by_markup.html", "<p>Longest wait: LA000<span></span>123.</p>"),
    ("split_by_bold.html", "<p>Longest wait: <b>943 476</b> 5919, then LA0<b>00</b><i>1</i>23</p>"),
    ("split_after_long_text.html", "<p>" + "Waited longest: " * 20 + "<b>PA</b>-00017</p>"),
    ("split_by_line_break.html", "<p>Longest: <b>LA000</b>\n<b>123</b></p>"),
    ("split_by_nbsp.html", "<p><b>943&nbsp;476</b>&nbsp;5919</p>"),
    ("split_by_comment.html", "<p>Longest: LA000<!-- x -->123</p>"),
    ("style_output.ipynb", notebook(new_output("display_data", data={
        "text/html": "<style>.x::after {content: 'LA000123'}</style><p class='x'>wait</p>"}))),
    ("split_output.ipynb", notebook(new_output("display_data", data={
        "text/html": "<p>pa<i>000</i>17 waited longest</p>"}))),
])
def test_planted_identifier_is_found_and_never_repeated(tmp_path: Path, name: str,
                                                        content: str) -> None:
    (tmp_path / "01_x").mkdir()
    (tmp_path / "01_x" / name).write_text(content)
    findings = found(tmp_path)
    assert findings and all(f.file.startswith("01_x/") for f in findings)
    assert gate.blocked(gate.scan_folder(tmp_path, IDS, 5), "01_x/") != []


def test_strings_a_page_shows_apart_are_not_read_as_one(tmp_path: Path) -> None:
    """Table cells, paragraphs and list items side by side, and an identifier's characters
    inside a longer word across markup, are not identifiers; the split ones above are
    (`evalkit.sdc.seams`)."""
    (tmp_path / "cells.html").write_text("<table><tr><td>LA000</td>\n<td>123</td></tr><tr>"
                                         "<td>943</td><td>4765919</td></tr></table>")
    (tmp_path / "blocks.html").write_text("<p>Cohort LA000</p><p>123 people</p><ul><li>Page "
                                          "943</li><li>4765919 people</li></ul>")
    (tmp_path / "word.html").write_text("<p>X<i>LA000</i>123 and pa000<b>17X</b></p>")
    assert found(tmp_path) == []


CSV_PAYLOAD = base64.b64encode(b"person,started\nLA000123,2023-02-14\n").decode()


@pytest.mark.parametrize("name, content", [
    ("download.html", f"<a href='data:text/csv;base64,{CSV_PAYLOAD}'>Download</a>"),
    ("svg.html", f"<img alt='chart' src='data:image/svg+xml;base64,{CSV_PAYLOAD}'>"),
    ("output.ipynb", notebook(new_output("display_data", data={
        "text/html": f"<a download='x.csv' href='data:text/csv;base64,{CSV_PAYLOAD}'>x</a>"}))),
    ("notes.md", f"[data](data:text/plain;base64,{CSV_PAYLOAD})\n"),
    ("charset.html", f"<a href='data:text/csv;charset=utf-8;base64,{CSV_PAYLOAD}'>x</a>"),
    ("upper.html", f"<a href='DATA:text/csv;BASE64,{CSV_PAYLOAD}'>x</a>"),
    ("no_type.html", f"<a href='data:;base64,{CSV_PAYLOAD}'>x</a>"),
    ("odd_image.html", f"<img src='data:image/png;foo=bar;base64,{CSV_PAYLOAD}'>"),
    ("not_an_image.html", f"<a download='x.csv' href='data:image/png;base64,{CSV_PAYLOAD}'>x</a>"),
    ("percent.html", "<a href='data:text/csv,LA%30%30%30123'>x</a>"),
])
def test_embedded_data_other_than_a_raster_image_blocks_its_file(tmp_path: Path, name: str,
                                                                 content: str) -> None:
    (tmp_path / "01_x").mkdir()
    (tmp_path / "01_x" / name).write_text(content)
    findings = found(tmp_path, "unreadable")
    assert [f.file for f in findings] == [f"01_x/{name}"]
    assert "embedded data" in findings[0].where


def test_a_notebook_output_of_an_unexpected_shape_is_unreadable_not_a_crash(
        tmp_path: Path) -> None:
    nb = json.loads(notebook(new_output("display_data", data={"text/plain": "x"})))
    nb["cells"][0]["outputs"][0]["data"]["text/html"] = {"a": "LA000123"}  # not text
    (tmp_path / "01_x").mkdir()
    (tmp_path / "01_x" / "odd.ipynb").write_text(json.dumps(nb))
    assert [f.file for f in found(tmp_path, "unreadable")] == ["01_x/odd.ipynb"]


PNG_PAYLOAD = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(40)).decode()


@pytest.mark.parametrize("name, content, kind", [
    ("newline_alt.html", f"<img src=data:image/png;base64,{PNG_PAYLOAD}\nalt=LA000123>",
     "identifier"),
    ("newline_class.html", f"<table><tr><td title=data:image/png;base64,{PNG_PAYLOAD}\n"
                           "class=count>3</td></tr></table>", "small_count"),
    ("pre.ipynb", notebook(new_output("display_data", data={
        "text/html": f"<pre>data:image/png;base64,{PNG_PAYLOAD}\nLA000123\n</pre>"})),
     "identifier"),
    ("text.json", json.dumps({"note": f"data:image/png;base64,{PNG_PAYLOAD}\nLA000123"}),
     "identifier"),
], ids=["newline_alt", "newline_class", "pre", "text"])
def test_what_follows_an_embedded_image_is_read(tmp_path: Path, name: str, content: str,
                                                kind: str) -> None:
    # an image's base64 is skipped up to its first character outside base64, no further
    (tmp_path / "01_x").mkdir()
    (tmp_path / "01_x" / name).write_text(content)
    assert found(tmp_path, kind)


@pytest.mark.parametrize("text, expected", [
    ("Cell 7: KeyError: 'LA/000123' in support_episodes",
     "Cell 7: KeyError: '[identifier]' in support_episodes"),
    ("ValueError: person 943 476 5919 (Pa00017) has no start date",
     "ValueError: person [identifier] ([identifier]) has no start date"),
    ("respondent S00000001, pa PA-00017, p12.",
     "respondent [identifier], pa [identifier], [identifier]."),
])
def test_redact_scrubs_every_identifier_from_a_message(text: str, expected: str) -> None:
    assert gate.redact(text, IDS) == expected and clean(expected)


@pytest.mark.parametrize("text", [
    f"cell 5: ValueError: bad row {PEOPLE.drop(columns='person_id').iloc[3].to_dict()}",
    f"KeyError: {tuple(PEOPLE.drop(columns='person_id').iloc[1])}",
    "row: born 1999-12, Female, ethnicity N, started 2023-02-14",
])
def test_a_message_holding_a_persons_row_is_withheld(text: str) -> None:
    assert gate.message(text, IDS) == gate.PERSON_ROW_MESSAGE


def test_a_message_without_a_persons_row_is_only_redacted() -> None:
    text = "cell 5: KeyError: 'LA/000123' started 2021-01-04 (Male: 12 people in E05900007)"
    assert gate.message(text, IDS) == text.replace("LA/000123", gate.REDACTED)


def test_redact_writes_embedded_data_as_a_mark_not_its_payload() -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(40)).decode()
    text = f"cell 3: ValueError: data:text/csv;base64,{CSV_PAYLOAD} and data:image/png;base64,{png}"
    assert gate.redact(text, IDS) == "cell 3: ValueError: [data] and [image]"


def test_redact_leaves_ordinary_text_and_figures_alone() -> None:
    text = "cell 12: 1,234 people in E06000016 from 2019-03-20; 12.5% of 943 in all"
    assert gate.redact(text, IDS) == text


def test_short_numeric_identifiers_refuse_the_whole_folder(tmp_path: Path) -> None:
    ids = gate.identifiers({"support_episodes": pd.DataFrame({"person_id": ["42", "P0001"]})})
    (tmp_path / "report.md").write_text("42 people.\n")
    findings = gate.scan_folder(tmp_path, ids, 5)
    assert [(f.file, f.kind) for f in findings] == [("*", "identifiers_unchecked")]
    assert "42" not in findings[0].where
    assert gate.blocked(findings, "01_uptake/") == findings
    assert gate.redact("person 42 of 420", ids) == f"person {gate.REDACTED} of 420"


@pytest.mark.parametrize("suffix", [".html", ".csv", ".ipynb", ".md"])
def test_person_level_rows_without_ids_are_found(tmp_path: Path, suffix: str) -> None:
    rows = PEOPLE.drop(columns="person_id").rename(columns=str.title).iloc[1:5]
    markdown = [f"| {' | '.join(map(str, row))} |" for row in [rows.columns, *rows.to_numpy()]]
    text = {".html": rows.to_html(index=False), ".csv": rows.to_csv(index=False),
            ".ipynb": notebook(new_output("display_data", data={"text/html": rows.to_html()})),
            ".md": "- Key finding.\n\n" + "\n".join(markdown)}
    (tmp_path / f"rows{suffix}").write_text(text[suffix])
    (finding,) = found(tmp_path, "person_rows")
    assert finding.file == f"rows{suffix}" and "support_episodes" in finding.where


def test_person_level_rows_printed_as_text_are_found(tmp_path: Path) -> None:
    rows = PEOPLE.drop(columns="person_id").iloc[1:5]
    (tmp_path / "printed.ipynb").write_text(notebook(
        new_output("stream", name="stdout", text=f"{rows}\n"), source="print(rows)"))
    (finding,) = found(tmp_path, "person_rows")
    assert finding.where == "cell 0 output 0 (text): 4 row(s) reproduce support_episodes rows"


def test_person_level_rows_printed_wrapped_into_blocks_of_columns_are_found(
        tmp_path: Path) -> None:
    """Long column names: pandas prints two columns a block, so no line holds a person's row."""
    rows = PEOPLE.drop(columns="person_id").iloc[1:5].add_suffix(" as recorded on the system")
    text = as_a_kernel_prints(rows)
    assert len(text.split("\n\n")) == 3  # blocks of columns
    assert not any(gate.holds_person_row(line, IDS) for line in text.splitlines())
    (tmp_path / "wrapped.ipynb").write_text(notebook(
        new_output("stream", name="stdout", text=f"{text}\n"), source="print(rows)"))
    (finding,) = found(tmp_path, "person_rows")
    assert finding.where == "cell 0 output 0 (text): 4 row(s) reproduce support_episodes rows"
    assert gate.message(f"KeyError: {text}", IDS) == gate.PERSON_ROW_MESSAGE


@pytest.mark.parametrize("suffix", [".html", ".csv", ".ipynb", ".md", "_printed.ipynb"])
def test_person_level_rows_shown_transposed_are_found(tmp_path: Path, suffix: str) -> None:
    """`df.head().T`: a person in each column, no row holds a person's values."""
    rows = PEOPLE.drop(columns="person_id").iloc[1:5].T
    text = as_a_kernel_prints(rows)  # in two blocks of two people
    markdown = [f"| {' | '.join(map(str, row))} |" for row in rows.reset_index().to_numpy()]
    content = {".html": rows.to_html(), ".csv": rows.to_csv(),
               ".ipynb": notebook(new_output("display_data", data={"text/html": rows.to_html()})),
               ".md": "- Key finding.\n\n" + "\n".join(markdown),
               "_printed.ipynb": notebook(new_output("stream", name="stdout", text=text))}
    (tmp_path / f"rows{suffix}").write_text(content[suffix])
    (finding,) = found(tmp_path, "person_rows")
    assert finding.where.endswith("4 column(s) reproduce support_episodes rows"), finding.where
    assert not any(gate.holds_person_row(line, IDS) for line in text.splitlines())
    assert gate.message(f"KeyError: {text}", IDS) == gate.PERSON_ROW_MESSAGE


def test_one_persons_row_printed_as_a_series_is_found(tmp_path: Path) -> None:
    text = repr(PEOPLE.drop(columns="person_id").iloc[1])  # `eps.iloc[0]`: labels, values
    (tmp_path / "one.ipynb").write_text(notebook(new_output("stream", name="stdout", text=text)))
    (finding,) = found(tmp_path, "person_rows")
    assert finding.where == "cell 0 output 0 (text): 1 column(s) reproduce support_episodes rows"
    assert gate.message(text, IDS) == gate.PERSON_ROW_MESSAGE


def _sentences(sep: str = ", ") -> list[str]:
    rows = PEOPLE.drop(columns="person_id").iloc[1:5]
    return [sep.join([f"born {r.birth_year_month}", r.gender, r.area_code,
                      f"started {r.start_date:%Y-%m-%d}"]) for r in rows.itertuples()]


def _printed(text: str) -> str:
    return notebook(new_output("stream", name="stdout", text=text))


ROWS = PEOPLE.drop(columns="person_id").iloc[1:5]
RECORDS = json.loads(ROWS.to_json(orient="records", date_format="iso"))
#: (file, content): person rows shown other than as a table or a printed frame.
SHOWN_OTHERWISE = {
    "to_dict": ("nb.ipynb", _printed(str(ROWS.to_dict()))),
    "to_dict_records": ("nb.ipynb", _printed(str(ROWS.to_dict("records")))),
    "values": ("nb.ipynb", _printed(str(ROWS.values))),
    "itertuples": ("nb.ipynb", _printed(str(list(ROWS.itertuples())))),
    "to_json": ("nb.ipynb", _printed(ROWS.to_json(orient="records", date_format="iso"))),
    "to_csv_printed": ("nb.ipynb", _printed(ROWS.to_csv())),
    "sentences": ("nb.ipynb", _printed("\n".join(_sentences()))),
    "results_json_records": ("results.json", json.dumps(RECORDS)),
    "results_json_columns": ("results.json", ROWS.to_json(date_format="iso")),
    "markdown_list": ("key_findings.md", "".join(f"- {s}\n" for s in _sentences())),
    "html_list": ("page.html", "<ul>" + "".join(f"<li>{s}</li>" for s in _sentences()) + "</ul>"),
    "alt_text": ("page.html", f"<img alt='Longest waits: {'; '.join(_sentences(' '))}'>"),
    "pre": ("page.html", f"<pre>{as_a_kernel_prints(ROWS.T)}</pre>"),
    "latex": ("nb.ipynb", notebook(new_output("display_data", data={
        "text/latex": ROWS.to_latex(), "text/plain": "<Latex>"}))),
    "json_output": ("nb.ipynb", notebook(new_output("display_data", data={
        "application/json": RECORDS, "text/plain": "<JSON>"}))),
    "error": ("nb.ipynb", notebook(new_output("error", ename="ValueError",
                                              evalue=str(ROWS), traceback=[]))),
    "svg_text": ("nb.ipynb", notebook(new_output("display_data", data={
        "image/svg+xml": "<svg>" + "".join(f"<text>{s}</text>" for s in _sentences())
                         + "</svg>", "text/plain": "<Figure>"}))),
}


@pytest.mark.parametrize("case", list(SHOWN_OTHERWISE))
def test_person_rows_shown_other_than_as_a_table_are_found(tmp_path: Path, case: str) -> None:
    name, content = SHOWN_OTHERWISE[case]
    (tmp_path / name).write_text(content)
    assert found(tmp_path, "person_rows"), case


def test_ethnic_group_names_of_eight_words_are_read_as_one_value(tmp_path: Path) -> None:
    people = pd.DataFrame({
        "person_id": ["Z0000001", "Z0000002", "Z0000003"],
        "start_date": pd.to_datetime(["2020-01-02", "2021-02-03", "2022-03-04"]),
        "ethnicity": ["Black, Black British, Caribbean or African: Caribbean"] * 3,
        "gender": ["Male", "Female", "Male"]})
    ids = gate.identifiers({"support_episodes": people})
    shown = people.drop(columns="person_id").to_string()  # print() cuts values at 50 characters
    (tmp_path / "nb.ipynb").write_text(_printed(shown))
    assert [f.kind for f in gate.scan_folder(tmp_path, ids, 5)] == ["person_rows"]


#: Support episodes whose dates fall on a month's first or last day (survey dates often do),
#: with budgets and hours (numbers a table's counts could equal).
MONTHLY = pd.DataFrame({
    "person_id": ["Z0000001", "Z0000002", "Z0000003"],
    "start_date": pd.to_datetime(["2021-04-01", "2022-06-30", "2023-01-01"]),
    "dp_requested_date": pd.to_datetime(["2021-03-03", "2022-05-05", "2022-12-07"]),
    "dp_first_payment_date": pd.to_datetime(["2021-04-19", "2022-07-11", "2023-01-23"]),
    "weekly_budget": [210.5, 180.25, 99.0], "planned_hours": [30.0, 12.0, 7.0],
    "area_code": ["E05900007", "E05900031", "E05900002"],
    "gender": ["Male", "Female", "Male"]})
MONTHLY_IDS = gate.identifiers({"support_episodes": MONTHLY})


@pytest.mark.parametrize("name, shown", [
    ("printed.ipynb", lambda rows: _printed(rows.to_string())),
    ("printed_csv.ipynb", lambda rows: _printed(rows.to_csv(index=False))),
    ("rows.csv", lambda rows: rows.to_csv(index=False)),
    ("crlf.ipynb", lambda rows: _printed(as_a_kernel_prints(
        rows.add_suffix(" as recorded on the system")).replace("\n", "\r\n"))),
    ("indented.html", lambda rows: rows.to_html(index=False).replace("<td>", "<td>\n" + " " * 24)),
])
def test_month_boundary_dates_budgets_and_layouts_still_found(tmp_path: Path, name: str,
                                                              shown) -> None:
    (tmp_path / name).write_text(shown(MONTHLY.drop(columns="person_id")))
    assert [f.kind for f in gate.scan_folder(tmp_path, MONTHLY_IDS, 5)] == ["person_rows"]


def test_a_series_of_dates_is_not_taken_for_a_person(tmp_path: Path) -> None:
    """A column of dates holds three dates of each person (start, request, first payment), but
    no other value of theirs: a date series by day, as CSV and HTML, is not a person's."""
    days = pd.date_range("2021-01-01", "2023-12-31", freq="D")
    series = pd.Series(range(len(days)), index=days.rename("day"), name="people").reset_index()
    (tmp_path / "daily.csv").write_text(series.to_csv(index=False))
    (tmp_path / "daily.html").write_text(series.to_html(index=False))
    assert gate.scan_folder(tmp_path, MONTHLY_IDS, 5) == []


def test_printed_columns_keep_values_of_several_words() -> None:
    text = repr(pd.DataFrame({"name": ["a", "b c"], "age": [10, 9]}).T)
    assert printed.columns(text) == [["", "name", "age"], ["0", "a", "10"], ["1", "b c", "9"]]


def test_a_pages_rows_are_read_once_a_text_and_given_out_afresh() -> None:
    texts = ["1975-07 E05900007 Male; 1988-01 E05900031", "  a  b\n0  1  x\n1  2  y", "1975-07"]
    expected = [row for text in texts
                for row in printed.rows(text.replace(";", "\n")) + printed.columns(text)]
    first = printed.page_rows(texts)
    assert first == expected
    first[0].append("changed")  # a caller's change never reaches the next page's rows
    assert printed.page_rows(texts) == expected


def test_printed_lines_join_only_blocks_that_line_up() -> None:
    wrapped = "  a  \\\n0 1\n1 2\n\n  b\n0 3\n1 4\n\nafter"
    assert printed.lines(wrapped) == ["  a  \\   b", "0 1 0 3", "1 2 1 4", "after"]
    uneven = "path C:\\\nnext\n\none line"  # a backslash, but blocks of 2 and 1 lines
    assert printed.lines(uneven) == uneven.replace("\n\n", "\n").splitlines()


def test_printed_figures_and_sentences_are_not_person_rows(tmp_path: Path) -> None:
    text = ("Between 2019-03-20 and 2024-10-29 a Male and a Female person in E05900007 started.\n"
            f"{PEOPLE.groupby('gender').size()}\n")
    (tmp_path / "ok.ipynb").write_text(notebook(new_output("stream", name="stdout", text=text)))
    assert gate.scan_folder(tmp_path, IDS, 5) == []


def test_execution_times_are_not_read_as_six_digit_identifiers(tmp_path: Path) -> None:
    ids = gate.identifiers({"support_episodes": pd.DataFrame({"person_id": ["123456"]})})
    times = {"start_time": "2026-12-03T16:30:13.123456", "duration": 1.123456}
    nb = new_notebook(metadata={"papermill": {**times, "parameters": {"la_code": "E06000016"}}},
                      cells=[new_code_cell("x = 1", metadata={
                          "execution": {"iopub.status.busy": "2026-12-03T16:30:13.123456Z"},
                          "papermill": times})])
    (tmp_path / "timed.ipynb").write_text(nbformat.writes(nb))
    assert gate.scan_folder(tmp_path, ids, 5) == []
    nb.metadata.papermill.parameters["note"] = "person 123456"
    (tmp_path / "timed.ipynb").write_text(nbformat.writes(nb))
    assert [f.kind for f in gate.scan_folder(tmp_path, ids, 5)] == ["identifier"]


def test_image_displayed_without_the_style_helper_is_found(tmp_path: Path) -> None:
    (tmp_path / "plot.ipynb").write_text(notebook(new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})))
    (finding,) = found(tmp_path, "image")
    assert finding.where.startswith("cell 0 output 0: an image (image/png) not drawn by")


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(24)).decode()
KEY = embedded.run_key(["a checksum"])


def test_an_image_without_the_runs_chart_mark_is_found(tmp_path: Path) -> None:
    """In a run (a chart key), an embedded image `style.show` did not mark, or marked for other
    bytes, is an "image" finding in a page or a notebook's HTML output; a marked one, one in a
    page's head (nbconvert's style sheets) and any outside a run (no key) are not."""
    ids = dataclasses.replace(IDS, chart_key=KEY)
    marked = f'data-evalkit-chart="{embedded.chart_mark(PNG, KEY)}"'
    other = f'data-evalkit-chart="{embedded.chart_mark(PNG + "AA", KEY)}"'
    pages = {"plain.html": f"<img src='data:image/png;base64,{PNG}' alt='chart'>",
             "copied_mark.html": f'<img alt="chart" {other} src="data:image/png;base64,{PNG}">',
             "background.html": f"<div style='background:url(data:image/png;base64,{PNG})'>",
             "output.ipynb": notebook(new_output("display_data", data={
                 "text/html": f'<img src="data:image/png;base64,{PNG}" alt="chart">'})),
             "marked.html": f'<p>A chart</p><img alt="chart" {marked} src="data:image/png;'
                            f'base64,{PNG}">',
             "style_sheet.html": f"<html><head><style>.x {{background: url(data:image/png;"
                                 f"base64,{PNG})}}</style></head><body><p>text</p></body></html>",
             "body_style.html": f"<body><style>.x {{background: url(data:image/png;base64,{PNG})}}"
                                "</style><p class='x'>text</p></body>"}
    for name, content in pages.items():
        (tmp_path / name).write_text(content)
    images = {f.file for f in gate.scan_folder(tmp_path, ids, 5) if f.kind == "image"}
    assert images == {"plain.html", "copied_mark.html", "background.html", "output.ipynb",
                      "body_style.html"}
    assert [f for f in gate.scan_folder(tmp_path, IDS, 5) if f.kind == "image"] == []


def test_style_show_marks_its_chart_under_the_runs_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """`style.show` in a run writes the mark the gate checks; outside a run, none."""
    shown: list[str] = []
    monkeypatch.setattr(style, "display", lambda html: shown.append(html.data))
    for key in (KEY, None):
        if key:
            monkeypatch.setenv(embedded.CHART_KEY_ENV, key.hex())
        else:
            monkeypatch.delenv(embedded.CHART_KEY_ENV)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        style.show(fig, alt="A line")
    assert embedded.unmarked_images(shown[0], KEY) == 0
    assert embedded.unmarked_images(shown[1], KEY) == 1 and "data-evalkit-chart" not in shown[1]


def test_redact_object_scrubs_keys_and_values_and_keeps_numbers() -> None:
    manifest = {"notebooks": [{"error": "KeyError: 'la-000-123'", "duration_s": 1.5,
                               "privacy": [], "ok": True, "outputs": {"html": None}}],
                "P12": 943}
    assert gate.redact_object(manifest, IDS) == {
        "notebooks": [{"error": "KeyError: '[identifier]'", "duration_s": 1.5, "privacy": [],
                       "ok": True, "outputs": {"html": None}}],
        "[identifier]": 943}


def test_aggregated_tables_are_not_person_rows(tmp_path: Path) -> None:
    counts = PEOPLE.groupby(["gender", "ethnicity"]).size().rename("people").reset_index()
    monthly = PEOPLE.assign(month=PEOPLE["start_date"].dt.strftime("%Y-%m")).groupby(
        ["month", "gender"]).size().rename("people").reset_index()
    (tmp_path / "agg.html").write_text(counts.to_html() + monthly.to_html())
    assert gate.scan_folder(tmp_path, IDS, 5) == []


def test_unreadable_files_are_not_published(tmp_path: Path) -> None:
    (tmp_path / "chart.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "data.bin").write_bytes(b"\xff\xfe\x00\x80")
    assert sorted(f.file for f in found(tmp_path, "unreadable")) == ["chart.png", "data.bin"]


def labelled(kind: str, label: str) -> plt.Figure:
    fig, ax = plt.subplots()
    if kind == "y tick labels":
        ax.barh(["Asian", label], [3, 4])
    elif kind == "x tick labels":
        ax.bar(["Asian", label], [3, 4])
    elif kind == "series labels":
        ax.plot([0, 1], [0, 1], label=label)
    elif kind == "titles":
        ax.set_title(f"Waits of {label}", loc="left")
    elif kind == "axis labels":
        ax.set_ylabel(label)
    elif kind == "figure texts":
        fig.suptitle(label)
    else:
        ax.annotate(label, (0.5, 0.5))
    return fig


@pytest.mark.parametrize("kind, label", [
    ("y tick labels", "LA/000123"), ("x tick labels", "pa 00017"),
    ("series labels", "943 476 5919"), ("annotations", "Person P12"),
    ("titles", "S00000001"), ("axis labels", "la000123"), ("figure texts", "PA-00017"),
])
def test_chart_label_that_is_an_identifier_is_refused(tmp_path: Path, kind: str, label: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(labels.ID_HASHES_ENV, str(labels.write_id_hashes(IDS, tmp_path / "ids")))
    assert clean((tmp_path / "ids").read_bytes().decode("latin-1"))  # hashes, not identifiers
    with pytest.raises(ValueError, match=f"chart( axes 1)?: {kind}") as err:
        style.png(labelled(kind, label))
    assert clean(str(err.value))
    assert style.png(labelled(kind, "Black")).startswith(b"\x89PNG")


def test_hashed_identifiers_are_sorted_64_bit_numbers_and_none_refuse_nothing(
        tmp_path: Path) -> None:
    hashes = labels.read_id_hashes(str(labels.write_id_hashes(IDS, tmp_path / "ids")))
    assert len(hashes) == len(IDS.by_value) and (hashes[1:] > hashes[:-1]).all()
    assert all(labels.is_identifier_label(v, hashes) for v in IDS.by_value)
    none = labels.read_id_hashes(str(labels.write_id_hashes(gate.Identifiers({}), tmp_path / "no")))
    assert len(none) == 0 and not labels.is_identifier_label("LA/000123", none)


def test_chart_labels_are_not_checked_without_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(labels.ID_HASHES_ENV, raising=False)
    assert style.png(labelled("y tick labels", "LA/000123")).startswith(b"\x89PNG")


def test_demo_reports_have_no_findings(published_dir: Path, demo_like_data: Path) -> None:
    data = evalkit.load(demo_like_data)
    ids = gate.identifiers({name: getattr(data, name) for name in gate.PERSON_COLUMNS})
    assert ids.by_value and ids.people and not ids.problems()
    folder = published_dir / COUNCIL
    assert list(folder.rglob("*.ipynb")) and list(folder.rglob("*.html"))
    assert gate.scan_folder(folder, ids, 5) == []


def test_a_survey_weight_equal_to_a_published_share_is_not_a_person_row(tmp_path: Path) -> None:
    """Survey weights are shared by a whole stratum (2,527 values over 309,612 respondents of
    the synthetic England data): a download's row 'Asian, Indian, 1.4' matched a respondent's
    weight, ethnic group and ethnicity, and blocked 02 for Leicester and Birmingham. Rows with
    the respondent's survey date are still found."""
    survey = pd.DataFrame({"respondent_id": [f"S{i:08d}" for i in range(4)],
                           "survey_date": pd.to_datetime(["2023-01-10", "2023-02-11",
                                                          "2023-03-12", "2023-04-13"]),
                           "weight": [1.4, 1.4, 2.5, 0.8],
                           "ethnic_group": ["Asian", "Asian", "Black", "White"],
                           "ethnicity": ["Indian", "Indian", "African", "British"]})
    ids = gate.identifiers({"survey": survey})
    shares = pd.DataFrame({"Ethnic group": ["Asian", "Black", "White"],
                           "Ethnicity": ["Indian", "African", "British"],
                           "Share of PAs (%)": [1.4, 2.5, 0.8]})
    (tmp_path / "table.csv").write_text(shares.to_csv(index=False))
    assert gate.scan_folder(tmp_path, ids, 5) == []
    (tmp_path / "rows.csv").write_text(survey.drop(columns="respondent_id").to_csv(index=False))
    assert [(f.file, f.kind) for f in gate.scan_folder(tmp_path, ids, 5)] == [
        ("rows.csv", "person_rows")]
