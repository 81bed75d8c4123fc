"""Loading a data folder: formats, accepted variants, aliases, row accounting, hard errors."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pandas as pd
import pytest
from helpers.tables import EXTRACT, make_clean_tables, write_tables

from evalkit.data import codes
from evalkit.data.contract import TABLES, optional_columns, required_columns
from evalkit.data.load import ContractError, add_arguments, load, main


@pytest.fixture(scope="module")
def clean():
    return make_clean_tables(seed=0, n=80)


def _episodes_only(tmp_path, df, fmt="csv"):
    return write_tables({"support_episodes": df}, tmp_path, fmt)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_clean_folder_loads_with_no_exclusions(tmp_path, clean, fmt):
    data = load(write_tables(clean, tmp_path, fmt), extract_date=EXTRACT)
    assert set(data.quality["reason"]) == {"kept"}
    for table, df in clean.items():
        got = getattr(data, table)
        assert len(got) == len(df)
        assert data.quality.set_index("table").loc[table, "rows"] == len(df)
        assert data.files[table] == [tmp_path / f"{table}.{fmt}"]
    se = data.support_episodes
    assert se["start_date"].dtype == "datetime64[ns]"
    assert se["has_dp"].dtype == "boolean" and se["interpreter_required"].dtype == "boolean"
    assert se["weekly_budget"].dtype == "float64"
    assert set(se["ethnic_group"]) <= set(codes.ETHNIC_GROUP_LABELS)
    assert set(se["ethnic_group_broad"]) <= set(codes.BROAD_GROUPS)
    assert (se["has_dp"] == se["delivery_mechanism"].isin(codes.DP_MECHANISMS)).all()
    assert (se["birth_date"].dt.day == 15).all()
    assert (se["preferred_language"] == "Not recorded").sum() == (
        clean["support_episodes"]["preferred_language"] == "").sum()
    assert data.warnings == []


def test_derived_values_follow_the_codes(tmp_path, clean):
    df = clean["support_episodes"].head(3).assign(
        ethnicity=["H", "N", "Z"], delivery_mechanism=["Part Direct Payment",
                                                      "CASSR Managed Personal Budget",
                                                      "Direct Payment only"],
        birth_year_month=["1950-02", "1980-12", "2001-07"])
    se = load(_episodes_only(tmp_path, df), extract_date=EXTRACT).support_episodes
    assert se["ethnicity"].tolist() == ["H", "N", "Z"]
    assert se["ethnic_group_broad"].tolist() == ["Asian", "Black", "Not stated"]
    assert se["has_dp"].tolist() == [True, False, True]
    assert se["birth_date"].tolist() == [pd.Timestamp("1950-02-15"), pd.Timestamp("1980-12-15"),
                                         pd.Timestamp("2001-07-15")]


def test_utf8_bom_csv(tmp_path, clean):
    df = clean["support_episodes"]
    df.to_csv(tmp_path / "support_episodes.csv", index=False, encoding="utf-8-sig")
    data = load(tmp_path, extract_date=EXTRACT)
    assert "person_id" in data.support_episodes and len(data.support_episodes) == len(df)


# (column, raw value, expected value after load)
VARIANTS = [
    ("start_date", "05/03/2022", pd.Timestamp("2022-03-05")),
    ("start_date", "44625", pd.Timestamp("2022-03-05")),  # Excel serial
    ("start_date", "2022-03-05 00:00:00", pd.Timestamp("2022-03-05")),
    ("start_date", " 2022-03-05 ", pd.Timestamp("2022-03-05")),
    ("birth_year_month", "195002", "1950-02"),
    ("birth_year_month", "2/1950", "1950-02"),
    ("birth_year_month", "1950-02-01", "1950-02"),
    ("weekly_budget", " 1,234.50 ", 1234.5),
    ("weekly_budget", "£99", 99.0),
    ("planned_hours", "12", 12.0),
    ("la_code", "E6000016", "E06000016"),  # lost its leading zero
    ("la_code", " e06000016  ", "E06000016"),
    ("area_code", "E1000010", "E01000010"),
    ("gender", "F", "Female"),
    ("gender", "  MALE ", "Male"),
    ("gender", "", "Unknown"),
    ("ethnicity", "asian or asian british - indian", "H"),  # compared on ethnic_group below
    ("primary_support_reason", "Support with Memory & Cognition",
     "Support with Memory and Cognition"),
    ("service_type", "Long Term Support: Residential Care", "Long Term Support: Residential"),
    ("delivery_mechanism", "direct payment", "Direct Payment only"),
    ("preferred_language", "guj", "Gujarati"),
    ("preferred_language", "Punjabi", "Panjabi"),
    ("preferred_language", "NULL", "Not recorded"),
    ("interpreter_required", "Yes", True),
    ("interpreter_required", "0", False),
    ("interpreter_required", "N/A", pd.NA),
    ("end_date", "NULL", pd.NaT),
    ("dp_managed_by", "N/A", None),
    ("person_id", "P000000   ", "P000000"),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_accepted_variants_are_normalised_and_kept(tmp_path, clean, fmt):
    base = clean["support_episodes"].head(1)
    df = pd.concat([base] * len(VARIANTS), ignore_index=True).astype(object)
    df["person_id"] = [f"V{i}" for i in range(len(VARIANTS))]
    df["end_date"] = ""
    for i, (col, raw, _) in enumerate(VARIANTS):
        df.loc[i, col] = raw
    data = load(_episodes_only(tmp_path, df, fmt), extract_date=EXTRACT)
    assert data.quality["reason"].tolist() == ["kept"]
    se = data.support_episodes
    for i, (col, raw, want) in enumerate(VARIANTS):
        got = se.at[i, col]
        if col == "ethnicity":
            assert se.at[i, "ethnic_group"] == "Asian or Asian British: Indian"
        elif col == "person_id":
            assert got == want
        elif want is None or want is pd.NA or want is pd.NaT:
            assert pd.isna(got), (col, raw, got)
        else:
            assert got == want, (col, raw, got)


def test_cld_column_names_are_aliases(tmp_path, clean):
    df = clean["support_episodes"].copy()
    ym = df.pop("birth_year_month").str.split("-", expand=True)
    df = df.rename(columns={
        "person_id": "Der_NHS_LA_Combined_Person_ID", "la_code": "LA_Code", "gender": "Gender",
        "ethnicity": "Ethnicity", "primary_support_reason": "Primary_Support_Reason",
        "service_type": "Service_Type", "delivery_mechanism": "Delivery_Mechanism",
        "start_date": "Event_Start_Date", "end_date": "Event_End_Date",
        "has_unpaid_carer": "Has_Unpaid_Carer", "planned_hours": "Planned_Units_Per_Week",
    }).assign(Der_Birth_Year=ym[0].astype(int), Der_Birth_Month=ym[1].astype(int))
    se = load(_episodes_only(tmp_path, df), extract_date=EXTRACT).support_episodes
    assert len(se) == len(df)
    assert se["birth_year_month"].tolist() == clean["support_episodes"]["birth_year_month"].tolist()
    assert se["person_id"].tolist() == clean["support_episodes"]["person_id"].tolist()


def test_column_names_ignore_case_and_spacing(tmp_path, clean):
    df = clean["support_episodes"].rename(columns=lambda c: f" {c.replace('_', ' ').upper()} ")
    data = load(_episodes_only(tmp_path, df), extract_date=EXTRACT)
    assert list(data.support_episodes.columns[:3]) == ["person_id", "la_code", "area_code"]


def test_unknown_columns_and_files_warn(tmp_path, clean):
    df = clean["support_episodes"].assign(shoe_size=42)
    _episodes_only(tmp_path, df)
    (tmp_path / "notes.csv").write_text("a\n1\n")
    warnings = load(tmp_path, extract_date=EXTRACT).warnings
    assert any("shoe_size" in w for w in warnings)
    assert any("notes.csv" in w for w in warnings)


def test_missing_preferred_language_warns_and_optional_columns_absent(tmp_path, clean):
    df = clean["support_episodes"].drop(columns=optional_columns("support_episodes"),
                                           errors="ignore")
    data = load(_episodes_only(tmp_path, df), extract_date=EXTRACT)
    assert any("preferred_language" in w and "Somali" in w for w in data.warnings)
    assert "preferred_language" not in data.support_episodes
    assert "dp_offered" not in data.support_episodes


def test_exclusions_named_and_counted(tmp_path, clean):
    df = clean["support_episodes"].head(10).astype(object)
    df.loc[0, "person_id"] = ""                      # blank_required:person_id
    df.loc[1, "start_date"] = "not a date"           # invalid_value:start_date
    df.loc[2, "weekly_budget"] = "lots"              # invalid_value:weekly_budget
    df.loc[3, "service_type"] = "Long Term Support: Prison"  # unknown_code:service_type
    df.loc[4, "start_date"] = "2026-04-01"           # future_date (after extract date)
    df.loc[5, ["start_date", "end_date"]] = ["2024-01-10", "2024-01-09"]  # end_before_start
    df = pd.concat([df, df.iloc[[6]]], ignore_index=True)  # duplicate_row
    df.loc[7, ["person_id", "ethnicity", "service_type"]] = ["", "Q", "XX"]  # first check wins
    data = load(_episodes_only(tmp_path, df), extract_date=EXTRACT)
    got = dict(zip(data.quality["reason"], data.quality["rows"], strict=True))
    assert got == {"kept": 3, "blank_required:person_id": 2, "invalid_value:start_date": 1,
                   "invalid_value:weekly_budget": 1, "unknown_code:service_type": 1,
                   "future_date:start_date": 1, "end_before_start": 1, "duplicate_row": 1}
    assert data.quality["rows"].sum() == len(df)


def test_extract_date_argument_moves_the_future(tmp_path, clean):
    folder = _episodes_only(tmp_path, clean["support_episodes"])
    late = clean["support_episodes"]["start_date"].max()
    data = load(folder, extract_date=pd.Timestamp(late) - pd.Timedelta(days=1))
    assert (data.quality["reason"] == "future_date:start_date").any()
    assert data.quality["rows"].sum() == len(clean["support_episodes"])


def test_pa_register_folder_combines_agencies_and_counts_a_pa_once(tmp_path, clean):
    reg = clean["pa_register"].drop(columns="agency")
    folder = tmp_path / "pa_register"
    folder.mkdir()
    reg.iloc[:30].to_csv(folder / "agency_a.csv", index=False)
    reg.iloc[25:].to_excel(folder / "agency_b.xlsx", index=False)  # 5 PAs listed by both
    data = load(tmp_path, extract_date=EXTRACT)
    got = dict(zip(data.quality["reason"], data.quality["rows"], strict=True))
    assert got == {"kept": len(reg), "duplicate_pa_listing": 5}
    assert set(data.pa_register["agency"]) == {"agency_a", "agency_b"}
    assert data.files["pa_register"] == [folder / "agency_a.csv", folder / "agency_b.xlsx"]


# ---------------------------------------------------------------- hard errors
def test_missing_required_column_names_file_and_column(tmp_path, clean):
    _episodes_only(tmp_path, clean["support_episodes"].drop(columns="start_date"))
    with pytest.raises(ContractError, match=r"support_episodes\.csv: missing required column"
                                            r"\(s\) start_date"):
        load(tmp_path)


def test_wrong_type_column_names_file_column_rows_and_expectation(tmp_path, clean):
    df = clean["support_episodes"].head(20).copy()
    df["start_date"] = [f"week {i}" for i in range(20)]
    df.loc[0, "start_date"] = "2022-01-01"
    _episodes_only(tmp_path, df)
    with pytest.raises(ContractError) as err:
        load(tmp_path)
    msg = str(err.value)
    assert "support_episodes.csv" in msg and "'start_date'" in msg
    assert "19 of 20" in msg and "rows 3, 4, 5, 6, 7 and 14 more" in msg
    assert "a date (YYYY-MM-DD" in msg and "week" not in msg  # a date may be personal data


def test_wrong_code_list_is_a_hard_error(tmp_path, clean):
    df = clean["support_episodes"].head(10).assign(ethnicity="Local code 7")
    _episodes_only(tmp_path, df)
    with pytest.raises(ContractError, match=r"'ethnicity'.*NHS ethnic category code.*rows 2, "
                                            r"3.*'Local code 7' \(10 rows\)"):
        load(tmp_path)


def test_identifiers_are_not_echoed_in_errors(tmp_path, clean):
    df = clean["support_episodes"].head(10).copy()
    df["la_code"] = df["person_id"]
    _episodes_only(tmp_path, df)
    with pytest.raises(ContractError, match=r"'la_code'.*rows 2, 3") as err:
        load(tmp_path)
    assert "P0000" not in str(err.value)


def test_windows_1252_file_is_read_with_a_warning(tmp_path, clean):
    df = clean["support_episodes"].head(5).copy()
    df.loc[2, "team_id"] = "Équipe"
    (tmp_path / "support_episodes.csv").write_bytes(df.to_csv(index=False).encode("cp1252"))
    data = load(tmp_path, extract_date=EXTRACT)
    assert data.support_episodes["team_id"].tolist()[2] == "Équipe"
    assert any("support_episodes.csv: not UTF-8" in w and "Windows-1252" in w
               for w in data.warnings)


def test_undecodable_file_is_unreadable_with_row(tmp_path, clean):
    text = clean["support_episodes"].head(5).to_csv(index=False).encode()
    lines = text.split(b"\n")
    lines[3] = lines[3].replace(b"T0", b"\x81T0", 1)  # 0x81: neither UTF-8 nor Windows-1252
    (tmp_path / "support_episodes.csv").write_bytes(b"\n".join(lines))
    with pytest.raises(ContractError, match=r"support_episodes\.csv: cannot be read as UTF-8 or "
                                            r"Windows-1252 text \(byte 0x81 on row 4\)"):
        load(tmp_path)


def test_corrupt_parquet_is_unreadable(tmp_path):
    (tmp_path / "survey.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ContractError, match=r"survey\.parquet: unreadable as parquet"):
        load(tmp_path)


def test_same_table_twice_is_an_error(tmp_path, clean):
    write_tables({"population": clean["population"]}, tmp_path, "csv")
    write_tables({"population": clean["population"]}, tmp_path, "parquet")
    with pytest.raises(ContractError, match="population is given more than once"):
        load(tmp_path)


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(ContractError, match="no table files found"):
        load(tmp_path)


def test_contract_lists_every_design_table():
    assert set(TABLES) == {"support_episodes", "population", "pa_register", "pa_requests",
                           "survey", "practice_changes", "engagement", "areas"}
    assert "preferred_language" in optional_columns("support_episodes")
    assert "ethnicity" in required_columns("support_episodes")


# ---------------------------------------------------------------- evalkit validate
def _args(*argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def test_validate_prints_quality_table(tmp_path, clean, capsys):
    df = pd.concat([clean["support_episodes"], clean["support_episodes"].head(2)])
    _episodes_only(tmp_path, df)
    assert main(_args(tmp_path, "--extract-date", "2026-03-31")) == 0
    out = capsys.readouterr().out
    assert f"support_episodes: {len(df)} rows read" in out
    assert "excluded: the same as an earlier row" in out and "warning:" not in out
    assert out.rstrip().splitlines()[-1] == (
        f"Verdict: usable, with 2 of {len(df):,} rows set aside for the reasons above (fix them "
        "in the source system, or accept that they are left out).")


def test_validate_words_every_reason_and_ends_with_a_verdict(tmp_path, clean, capsys):
    from evalkit.data.load import reason_words

    assert reason_words("unknown_code:gender") == "excluded: gender is not a known code"
    assert reason_words("future_date:start_date") == (
        "excluded: start_date is after the extract date")
    assert reason_words("end_before_start") == "excluded: it ends before it starts"
    assert reason_words("kept") == "kept"
    _episodes_only(tmp_path, clean["support_episodes"])
    assert main(_args(tmp_path, "--extract-date", "2026-03-31")) == 0
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last == f"Verdict: usable. All {len(clean['support_episodes']):,} rows read are kept."


def test_validate_exits_1_with_the_error(tmp_path, clean, capsys):
    _episodes_only(tmp_path, clean["support_episodes"].drop(columns="gender"))
    assert main(_args(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "missing required column(s) gender" in err
    assert err.rstrip().splitlines()[-1].startswith("Verdict: not usable")


def test_pandera_is_imported_without_pysparks_pandas_warning() -> None:
    """With the [spark] extra installed, importing pandera imports pyspark.pandas, which warns
    that it does not support pandas 3 (a FutureWarning in every notebook and in the run's log),
    as it is imported and as it first validates; both keep it out. Checked in a fresh process,
    as a module warns only once."""
    done = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", "-c",
         "import pandas as pd; from evalkit.data.contract import schema, validated; "
         "validated(pd.DataFrame(columns=list(schema('areas').columns)), 'areas')"],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "FutureWarning" not in done.stderr, done.stderr
