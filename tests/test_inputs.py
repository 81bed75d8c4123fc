"""Input problems a council's files really have (issue 15): each is read, counted or refused
with a message naming the file, rows and column, and no message shows a person's data."""

from __future__ import annotations

import argparse
import codecs

import numpy as np
import pandas as pd
import pytest
from helpers.tables import EXTRACT, make_clean_tables

from evalkit.data.checks import MAX_LISTED
from evalkit.data.contract import TABLES
from evalkit.data.load import ContractError, add_arguments, load, main, save_cache
from evalkit.data.values import MAX_CELL_CHARS

PERSONAL = ("id", "date", "year_month", "text")  # contract kinds a message must never quote


@pytest.fixture(scope="module")
def clean():
    return make_clean_tables(seed=3, n=60)


@pytest.fixture()
def episodes(clean):
    return clean["support_episodes"].astype(object)


def _write(folder, df, name="support_episodes"):
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _error(folder, **kwargs) -> str:
    with pytest.raises(ContractError) as err:
        load(folder, extract_date=EXTRACT, **kwargs)
    return str(err.value)


def _no_personal_data(message: str, df: pd.DataFrame, table: str = "support_episodes") -> None:
    """No identifier, date, birth month or free text of `df` is quoted in `message`."""
    kinds = {c.name: c.kind for c in TABLES[table]}
    for col in df.columns:
        if kinds.get(col) in PERSONAL:
            values = {str(v).strip() for v in df[col] if len(str(v).strip()) >= 4}
            assert not [v for v in values if v in message], col


def _rows(positions) -> str:
    """How a message lists CSV rows (header = row 1) for these data positions."""
    return ", ".join(str(i + 2) for i in positions)


def _validate(capsys, folder, *argv) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    code = main(parser.parse_args([str(folder), "--extract-date", str(EXTRACT.date()), *argv]))
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------------------- workbooks
def test_a_table_split_over_sheets_is_combined(tmp_path, episodes):
    path = tmp_path / "support_episodes.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"Notes": ["Extract for the DP review", "Do not share"]}).to_excel(
            book, sheet_name="Notes", index=False)
        episodes.iloc[:35].to_excel(book, sheet_name="2024", index=False)
        episodes.iloc[35:].to_excel(book, sheet_name="2025", index=False)
    data = load(tmp_path, extract_date=EXTRACT)
    assert data.quality["rows"].tolist() == [len(episodes)]  # every row of both sheets, kept
    assert data.support_episodes["person_id"].tolist() == episodes["person_id"].tolist()
    assert any("2 sheets ('2024', '2025')" in w and "combined" in w for w in data.warnings)
    assert any("support_episodes.xlsx: sheet 'Notes' names no support_episodes column; it was "
               "not read" in w for w in data.warnings)


def test_sheets_are_named_in_row_references(tmp_path, episodes):
    df = episodes.copy()
    df.loc[40, "start_date"] = "03/25/2024"  # can only be month first
    path = tmp_path / "support_episodes.xlsx"
    with pd.ExcelWriter(path) as book:
        df.iloc[:35].to_excel(book, sheet_name="2024", index=False)
        df.iloc[35:].to_excel(book, sheet_name="2025", index=False)
    msg = _error(tmp_path)
    assert "support_episodes.xlsx, sheet '2025' row 7" in msg and "'start_date'" in msg
    _no_personal_data(msg, df)


def test_a_notes_sheet_before_the_data_is_named_not_read(tmp_path, episodes):
    path = tmp_path / "support_episodes.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"About": ["person_id is the case number"]}).to_excel(
            book, sheet_name="Notes", index=False)
        episodes.to_excel(book, sheet_name="Data", index=False)
    data = load(tmp_path, extract_date=EXTRACT)
    assert len(data.support_episodes) == len(episodes)
    assert [w for w in data.warnings if "'Notes'" in w]


def test_a_workbook_without_the_table_names_each_sheet(tmp_path, episodes):
    path = tmp_path / "support_episodes.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"About": ["read me"]}).to_excel(book, sheet_name="Notes", index=False)
        episodes.drop(columns=["start_date"]).to_excel(book, sheet_name="Data", index=False)
    msg = _error(tmp_path)
    assert msg.startswith("support_episodes.xlsx: no sheet has the support_episodes columns")
    assert "sheet 'Notes' names no support_episodes column" in msg
    assert "sheet 'Data' lacks start_date" in msg
    _no_personal_data(msg, episodes)


def test_a_sheet_of_another_table_is_named(tmp_path, clean, episodes):
    path = tmp_path / "support_episodes.xlsx"
    with pd.ExcelWriter(path) as book:
        episodes.to_excel(book, sheet_name="episodes", index=False)
        clean["population"].to_excel(book, sheet_name="population", index=False)
    data = load(tmp_path, extract_date=EXTRACT)
    assert len(data.support_episodes) == len(episodes)
    assert any("sheet 'population' lacks person_id" in w and "not read" in w
               for w in data.warnings)


# ---------------------------------------------------------------------------- day and month
def _us_dates(df: pd.DataFrame, rows: list[int], col: str = "start_date") -> pd.DataFrame:
    df = df.copy()
    df.loc[rows, col] = pd.to_datetime(df.loc[rows, col]).dt.strftime("%m/%d/%Y")
    return df


def test_month_first_dates_are_an_error_naming_rows_and_the_option(tmp_path, episodes):
    days = pd.to_datetime(episodes["start_date"]).dt.day
    us = list(np.flatnonzero(days > 12)[:4]) + list(np.flatnonzero(days <= 12)[:3])
    df = _us_dates(episodes, us)
    msg = _error(_write(tmp_path, df))
    assert msg.startswith("support_episodes.csv: column 'start_date' is not in the contract's "
                          "order")
    assert f"4 can only be month/day/year (rows {_rows(sorted(us[:4]))})" in msg
    assert "--date-order mdy" in msg and "date_order=" in msg
    _no_personal_data(msg, df)


def test_stated_month_first_order_reads_every_us_date(tmp_path, episodes):
    us = list(range(0, len(episodes), 3))  # a third of the rows, the rest ISO
    data = load(_write(tmp_path, _us_dates(episodes, us)), extract_date=EXTRACT,
                date_order="mdy")
    assert data.quality["reason"].tolist() == ["kept"]
    assert (data.support_episodes["start_date"] == pd.to_datetime(episodes["start_date"])).all()
    assert data.date_order == "mdy"


def test_mixed_day_month_orders_are_an_error_naming_both(tmp_path, episodes):
    days = pd.to_datetime(episodes["start_date"]).dt.day
    late = np.flatnonzero(days > 12)
    df = _us_dates(episodes, [late[0], late[1]])
    df.loc[late[2], "start_date"] = pd.Timestamp(df.loc[late[2], "start_date"]).strftime(
        "%d/%m/%Y")
    msg = _error(_write(tmp_path, df))
    assert "column 'start_date' mixes both orders" in msg
    assert f"2 can only be month/day/year (rows {_rows(late[:2])})" in msg
    assert f"1 can only be day/month/year (row {late[2] + 2})" in msg
    _no_personal_data(msg, df)


def test_a_stated_order_excludes_the_dates_that_do_not_fit_it(tmp_path, episodes):
    days = pd.to_datetime(episodes["start_date"]).dt.day
    late = np.flatnonzero(days > 12)
    df = _us_dates(episodes, list(late[:2]))
    data = load(_write(tmp_path, df), extract_date=EXTRACT, date_order="dmy")
    got = dict(zip(data.quality["reason"], data.quality["rows"], strict=True))
    assert got == {"kept": len(df) - 2, "invalid_value:start_date": 2}


def test_birth_months_written_month_first_are_an_error(tmp_path, episodes):
    df = episodes.copy()
    df.loc[5, "birth_year_month"] = "04/23/1950"
    msg = _error(_write(tmp_path, df))
    assert "column 'birth_year_month'" in msg and "(row 7)" in msg
    assert "04/23/1950" not in msg


def test_validate_takes_the_date_order(tmp_path, episodes, capsys):
    days = pd.to_datetime(episodes["start_date"]).dt.day
    folder = _write(tmp_path, _us_dates(episodes, list(np.flatnonzero(days > 12)[:3])))
    code, _, err = _validate(capsys, folder)
    assert code == 1 and "--date-order" in err
    code, out, _ = _validate(capsys, folder, "--date-order", "mdy")
    assert code == 0 and f"support_episodes: {len(episodes)} rows read" in out


def test_date_order_must_be_known(tmp_path, episodes):
    with pytest.raises(ValueError, match="date_order must be one of dmy, mdy"):
        load(_write(tmp_path, episodes), date_order="ymd")


# ---------------------------------------------------------------------------- delimiters
@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiter_is_found(tmp_path, episodes, sep):
    df = episodes.copy()
    df.loc[3, "team_id"] = "T01, north"  # the comma is text in a semicolon file
    df.to_csv(tmp_path / "support_episodes.csv", index=False, sep=sep)
    data = load(tmp_path, extract_date=EXTRACT)
    assert data.quality["reason"].tolist() == ["kept"] and data.warnings == []
    assert data.support_episodes.at[3, "team_id"] == "T01, north"


def test_a_row_with_too_many_values_names_the_row_and_delimiter(tmp_path, episodes):
    lines = episodes.to_csv(index=False, sep=";").splitlines()
    lines[5] += ";Mrs Smith"
    (tmp_path / "support_episodes.csv").write_text("\n".join(lines) + "\n")
    msg = _error(tmp_path)
    n = len(episodes.columns)
    assert msg.startswith(f"support_episodes.csv: row 6 has {n + 1} values but the header (row "
                          f"1) has {n} columns (values separated by semicolons)")
    assert "Smith" not in msg


def test_utf16_text_from_excel_is_read(tmp_path, episodes):
    text = episodes.to_csv(index=False, sep="\t")
    (tmp_path / "support_episodes.csv").write_bytes(codecs.BOM_UTF16_LE
                                                    + text.encode("utf-16-le"))
    data = load(tmp_path, extract_date=EXTRACT)
    assert data.quality["rows"].tolist() == [len(episodes)] and data.warnings == []


# ---------------------------------------------------------------------------- header row
def test_a_title_above_the_header_is_skipped_and_reported(tmp_path, episodes):
    text = episodes.to_csv(index=False)
    (tmp_path / "support_episodes.csv").write_text(f"Support episodes, March 2026\n\n{text}")
    data = load(tmp_path, extract_date=EXTRACT)
    assert data.quality["rows"].tolist() == [len(episodes)]
    assert data.warnings == ["support_episodes.csv: the header is on row 3; the 1 row(s) above "
                             "it (a title?) were not read"]


def test_a_title_above_the_header_of_a_sheet(tmp_path, episodes):
    with pd.ExcelWriter(tmp_path / "support_episodes.xlsx") as book:
        pd.DataFrame([["Support episodes"]]).to_excel(book, index=False, header=False)
        episodes.to_excel(book, index=False, startrow=2)
    data = load(tmp_path, extract_date=EXTRACT)
    assert data.quality["rows"].tolist() == [len(episodes)]
    assert any("sheet 'Sheet1': the header is on row 3" in w for w in data.warnings)


def test_no_header_row_is_an_error_that_quotes_no_row(tmp_path, episodes):
    episodes.to_csv(tmp_path / "support_episodes.csv", index=False, header=False)
    msg = _error(tmp_path)
    assert msg.startswith("support_episodes.csv: no header row found: none of the first 20 rows "
                          "names a support_episodes column")
    assert "person_id, la_code" in msg  # what was expected
    _no_personal_data(msg, episodes)


def test_a_repeated_column_is_named_with_its_positions(tmp_path, episodes):
    df = episodes.copy()
    df.insert(9, "Ethnicity ", df["ethnicity"])
    df.to_csv(tmp_path / "support_episodes.csv", index=False)
    msg = _error(tmp_path)
    assert msg.startswith("support_episodes.csv: the header gives column 'ethnicity' 2 times "
                          "(columns F, J)")
    assert ".1" not in msg


def test_a_second_name_for_a_column_is_ignored_with_a_warning(tmp_path, episodes):
    df = episodes.assign(Client_ID=episodes["person_id"])
    data = load(_write(tmp_path, df), extract_date=EXTRACT)
    assert data.warnings == ["support_episodes.csv: column(s) Client_ID name a column already "
                             "read from another heading and were ignored"]


def test_a_header_with_no_rows_is_a_no_rows_error(tmp_path, episodes):
    episodes.iloc[:0].to_csv(tmp_path / "support_episodes.csv", index=False)
    msg = _error(tmp_path)
    assert msg.startswith("support_episodes.csv: no rows: there is a header but no "
                          "support_episodes row")


# ---------------------------------------------------------------------------- findings
def _findings(data, name: str) -> pd.DataFrame:
    return data.findings[data.findings["finding"] == name].reset_index(drop=True)


def test_unknown_codes_are_listed_with_counts_and_rows(tmp_path, episodes, capsys):
    df = episodes.copy()
    codes_given = {"WBRI": [1, 4, 9], "AIND": [2, 7], "Gypsy/Roma": [3]}
    for code, rows in codes_given.items():
        df.loc[rows, "ethnicity"] = code
    data = load(_write(tmp_path, df), extract_date=EXTRACT)
    got = _findings(data, "unknown_code")
    assert got[["column", "value", "rows"]].to_records(index=False).tolist() == [
        ("ethnicity", "WBRI", 3), ("ethnicity", "AIND", 2), ("ethnicity", "Gypsy/Roma", 1)]
    assert got["where"].tolist() == ["rows 3, 6, 11", "rows 4, 9", "row 5"]
    q = data.quality.set_index("reason")["rows"]
    assert q["unknown_code:ethnicity"] == got["rows"].sum() == 6
    code, out, _ = _validate(capsys, tmp_path)
    assert code == 0 and "excluded: ethnicity is not a known code" in out
    for value, n in [("'WBRI'", 3), ("'AIND'", 2), ("'Gypsy/Roma'", 1)]:
        assert any(value in line and f" {n}  row" in line for line in out.splitlines())


def test_many_or_long_unknown_values_are_counted_not_listed(tmp_path, episodes):
    df = episodes.copy()
    df.loc[: MAX_LISTED + 4, "service_type"] = [f"Local {i}" for i in range(MAX_LISTED + 4)] + [
        "x" * 200]
    found = _findings(load(_write(tmp_path, df), extract_date=EXTRACT), "unknown_code")
    assert len(found) == MAX_LISTED + 1 and found["rows"].sum() == MAX_LISTED + 5
    assert found["value"].iat[-1] == "(5 other values)"
    assert not found["value"].str.contains("xxx").any()


def test_an_old_person_is_a_finding_not_an_exclusion(tmp_path, episodes, capsys):
    df = episodes.copy()
    df.loc[[4, 8], "birth_year_month"] = "1895-06"  # 130 in 2025
    year = pd.Timestamp(df.loc[6, "start_date"]).year
    df.loc[6, ["birth_year_month", "start_date"]] = [f"{year}-12", f"{year}-01-02"]
    data = load(_write(tmp_path, df), extract_date=EXTRACT)
    assert data.quality["reason"].tolist() == ["kept"]  # nobody excluded
    old = _findings(data, "age_over_110")
    assert old[["column", "rows", "where"]].iloc[0].tolist() == ["birth_year_month", 2,
                                                                 "rows 6, 10"]
    assert _findings(data, "born_after_start")["where"].tolist() == ["row 8"]
    assert any(w.startswith("support_episodes.birth_year_month: people aged over 110")
               for w in data.warnings)
    _, out, _ = _validate(capsys, tmp_path)
    assert "Findings (rows kept):" in out and "2 rows: rows 6, 10" in out
    assert "1895" not in out


def test_overlapping_episodes_of_one_person_are_a_finding(tmp_path, episodes):
    df = episodes.copy()
    df.loc[[10, 11, 12], ["person_id", "la_code"]] = [df.loc[10, "person_id"],
                                                     df.loc[10, "la_code"]]
    df.loc[[10, 11, 12], "start_date"] = ["2023-01-01", "2023-06-01", "2024-02-01"]
    df.loc[[10, 11, 12], "end_date"] = ["2023-12-31", "", ""]  # 11 ongoing: 12 overlaps it
    data = load(_write(tmp_path, df), extract_date=EXTRACT)
    assert data.quality["rows"].tolist() == [len(df)]
    assert _findings(data, "overlapping_episodes")[["rows", "where"]].iloc[0].tolist() == [
        2, "rows 13, 14"]


def test_an_overlong_text_cell_is_cut_and_counted(tmp_path, clean):
    eng = clean["engagement"].copy()
    eng.loc[1, "summary"] = "word " * 400_000  # 2 MB in one cell
    data = load(_write(tmp_path, eng, "engagement"), extract_date=EXTRACT)
    assert data.engagement["summary"].str.len().max() == MAX_CELL_CHARS
    assert _findings(data, "text_truncated")[["column", "where"]].iloc[0].tolist() == [
        "summary", "row 3"]


def test_a_negative_optional_value_blanks_the_value_not_the_person(tmp_path, episodes):
    df = episodes.copy()
    df.loc[[2, 5], "weekly_budget"] = ["-120", "-1"]
    data = load(_write(tmp_path, df), extract_date=EXTRACT)
    assert data.quality["reason"].tolist() == ["kept"]
    se = data.support_episodes
    assert se.loc[[2, 5], "weekly_budget"].isna().all()
    assert se["weekly_budget"].notna().sum() == len(df) - 2
    assert _findings(data, "negative_blanked")[["column", "rows", "where"]].iloc[0].tolist() == [
        "weekly_budget", 2, "rows 4, 7"]


def test_a_negative_value_in_a_required_column_still_excludes(tmp_path, clean):
    reg = clean["pa_register"].astype(object)
    reg.loc[0, "hours_available"] = "-5"
    data = load(_write(tmp_path, reg, "pa_register"), extract_date=EXTRACT)
    assert "invalid_value:hours_available" in set(data.quality["reason"])


def test_a_pa_listed_twice_by_one_agency_is_kept_and_counted(tmp_path, clean):
    reg = clean["pa_register"].astype(object)
    again = reg.iloc[[0]].assign(ethnicity="")  # same PA, same snapshot, ethnicity now blank
    other = reg.iloc[[1]].assign(agency="Another agency")
    df = pd.concat([reg, again, other], ignore_index=True)
    data = load(_write(tmp_path, df, "pa_register"), extract_date=EXTRACT)
    got = dict(zip(data.quality["reason"], data.quality["rows"], strict=True))
    assert got == {"kept": len(reg) + 1, "duplicate_pa_listing": 1}
    assert _findings(data, "pa_listed_twice")["where"].tolist() == [f"row {len(reg) + 2}"]


def test_findings_survive_the_cache_and_a_stated_order(tmp_path, episodes, monkeypatch):
    df = episodes.copy()
    df.loc[2, "weekly_budget"] = "-3"
    days = pd.to_datetime(df["start_date"]).dt.day
    folder = _write(tmp_path / "data", _us_dates(df, list(np.flatnonzero(days > 12)[:2])))
    fresh = load(folder, extract_date=EXTRACT, date_order="mdy")
    save_cache(fresh, folder, tmp_path / "cache")
    monkeypatch.setenv("EVALKIT_LOAD_CACHE", str(tmp_path / "cache"))
    reused = load(folder, extract_date=EXTRACT)  # a notebook of the run states no order
    pd.testing.assert_frame_equal(reused.findings, fresh.findings)
    assert reused.date_order == "mdy"
    again = load(folder, extract_date=EXTRACT, date_order="dmy")  # validated again
    assert again.quality.set_index("reason").at["invalid_value:start_date", "rows"] == 2
