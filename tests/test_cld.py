"""The CLD transformation, one hand-made person per rule of NHS England's ASCOF 3D SQL: each
row's reason and each person's place in the ASCOF counts are what reading the SQL gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from evalkit.data.cld import layout as L
from evalkit.data.cld.layout import nhs_round
from evalkit.data.cld.transform import Transformed, transform

SNAP, BY = dt.date(2024, 3, 31), dt.date(2024, 4, 30)
LA = "E06000016"


def row(pid: str, **changes: object) -> dict[str, object]:
    """One raw CLD row of a 70-year-old on a community Direct Payment, open at the snapshot,
    in Leicester's submission imported 20 April 2024; `changes` by layout name."""
    base = {L.LA_CODE: LA, L.LA_NAME: "Leicester", L.IMPORT_DATE: "2024-04-20 09:30:00",
            L.PERIOD_START: "2023-04-01", L.PERIOD_END: "2024-03-31", L.RECORD_ID: f"R{pid}",
            L.NHS_NUMBER: f"N{pid}", L.LA_PERSON_ID: f"P{pid}", L.BIRTH_YEAR: "1953",
            L.BIRTH_MONTH: "6", L.DATE_OF_DEATH: "", L.CLIENT_TYPE: L.SERVICE_USER,
            L.EVENT_TYPE: "Service", L.EVENT_START: "2022-05-01", L.EVENT_END: "",
            L.SERVICE_TYPE: L.COMMUNITY, L.SERVICE_COMPONENT: "Personal Care",
            L.DELIVERY_MECHANISM: L.DIRECT_PAYMENT, L.GENDER: "Female",
            L.ETHNICITY: "Asian or Asian British - Indian",
            L.PRIMARY_SUPPORT_REASON: "Physical Support: Personal care support"}
    return {**base, **changes}


def run(tmp_path: Path, rows: list[dict[str, object]], *, period_end: dt.date = SNAP,
        submitted_by: dt.date = BY) -> tuple[Transformed, list[str]]:
    """Write the rows as cld.csv, transform them; (result, each row's reason in order)."""
    pd.DataFrame(rows).to_csv(tmp_path / "cld.csv", index=False)
    con = duckdb.connect()
    done = transform([tmp_path / "cld.csv"], period_end, submitted_by, con=con)
    reasons = [r for (r,) in con.execute(
        "SELECT reason FROM cld_reasons ORDER BY row_id").fetchall()]
    assert done.reasons["rows"].sum() == done.rows_read == len(rows)
    return done, reasons


def count(done: Transformed, band: str = "18+", measure: str = "3D2a") -> tuple[int, int]:
    """(numerator, denominator) of Leicester's measure in the band; (0, 0) when no row."""
    got = done.ascof[(done.ascof["la_code"] == LA) & (done.ascof["age_band"] == band)
                     & (done.ascof["measure"] == measure)]
    return (0, 0) if got.empty else (int(got["numerator"].iat[0]),
                                     int(got["denominator"].iat[0]))


def test_latest_submission_in_the_window_is_used(tmp_path: Path) -> None:
    old = {L.IMPORT_DATE: "2024-04-10", L.PERIOD_END: "2024-03-31"}
    late = {L.IMPORT_DATE: "2024-05-02"}
    early = {L.IMPORT_DATE: "2024-03-30", L.PERIOD_END: "2023-12-31"}
    rows = [row("1", **old), row("1", **{L.DELIVERY_MECHANISM: L.COMMISSIONED}),
            row("1", **late), row("2", **early)]
    done, reasons = run(tmp_path, rows)
    assert reasons == ["superseded_submission", "kept", "outside_window", "outside_window"]
    assert count(done) == (0, 1)  # the latest version: commissioned, not a DP


def test_window_needs_the_year_from_april(tmp_path: Path) -> None:
    done, reasons = run(tmp_path, [row("1", **{L.PERIOD_START: "2023-07-01"})])
    assert reasons == ["outside_window"] and done.ascof.empty


def test_text_compared_as_sql_server_does(tmp_path: Path) -> None:
    rows = [row("1", **{L.SERVICE_TYPE: "long term support: community  ",
                        L.DELIVERY_MECHANISM: "DIRECT payment ", L.CLIENT_TYPE: "service user"}),
            row("2", **{L.LA_NAME: "LEICESTER"})]
    done, reasons = run(tmp_path, rows)
    assert reasons == ["kept", "kept"] and count(done) == (2, 2)


@pytest.mark.parametrize(("changes", "reason"), [
    ({L.SERVICE_TYPE: "Short Term Support: ST-Max"}, "not_long_term_service"),
    ({L.SERVICE_TYPE: ""}, "not_long_term_service"),
    ({L.SERVICE_TYPE: " Long Term Support: Community"}, "not_long_term_service"),
    ({L.CLIENT_TYPE: "Carer"}, "carer"),
    ({L.CLIENT_TYPE: "Carer known by association"}, "carer"),
    ({L.CLIENT_TYPE: ""}, "not_service_user"),
    ({L.EVENT_START: "2024-04-01"}, "not_open_at_snapshot"),
    ({L.EVENT_START: ""}, "not_open_at_snapshot"),
    ({L.EVENT_END: "2024-03-30"}, "history"),  # ended before: an episode of the history
    ({L.EVENT_END: "2024-03-30", L.BIRTH_MONTH: ""}, "not_open_at_snapshot"),
    ({L.DATE_OF_DEATH: "2024-03-30"}, "history"),  # an open event ends at the death
    ({L.DATE_OF_DEATH: "2024-03-30", L.LA_PERSON_ID: "", L.NHS_NUMBER: ""},
     "died_before_snapshot"),
    ({L.BIRTH_MONTH: ""}, "no_birth_month"),
    ({L.BIRTH_MONTH: "13"}, "no_birth_month"),
    ({L.EVENT_END: "31st March"}, "unreadable_value"),
    ({L.LA_NAME: "", L.LA_CODE: ""}, "no_council"),
    ({L.RECORD_ID: ""}, "no_usable_id"),
    ({L.NHS_NUMBER: "", L.LA_PERSON_ID: ""}, "no_usable_id"),
    ({L.EVENT_END: "2024-03-31", L.DATE_OF_DEATH: "2024-03-31"}, "kept"),
    ({L.EVENT_TYPE: "Assessment"}, "kept"),  # the client measures do not filter event types
])
def test_one_rule_each(tmp_path: Path, changes: dict, reason: str) -> None:
    done, reasons = run(tmp_path, [row("1", **changes)])
    assert reasons == [reason]
    assert count(done) == ((1, 1) if reason == "kept" else (0, 0))


def episodes(done: Transformed) -> list[tuple[str, str, str, str]]:
    """(reason, person_id, start, end) of the episodes brought back, in row order."""
    ep = done.episodes
    end = pd.to_datetime(ep["end_date"]).dt.strftime("%Y-%m-%d").fillna("")
    start = pd.to_datetime(ep["start_date"]).dt.strftime("%Y-%m-%d")
    return list(zip(ep["reason"], ep["person_id"], start, end, strict=True))


def test_history_is_the_latest_version_of_each_ended_event(tmp_path: Path) -> None:
    """Ended episodes come from every accepted submission (the one ASCOF uses and those
    imported before it), each event (council, person, service type, start) from the latest
    submission holding it; the cohort stays the ASCOF one."""
    fy23 = {L.IMPORT_DATE: "2023-04-20", L.PERIOD_START: "2022-04-01",
            L.PERIOD_END: "2023-03-31"}
    first = {L.IMPORT_DATE: "2024-04-05"}
    late = {L.IMPORT_DATE: "2024-05-10"}
    rows = [row("1", **fy23, **{L.EVENT_START: "2020-01-01", L.EVENT_END: "2022-06-30"}),
            row("2", **fy23, **{L.EVENT_START: "2021-01-01"}),  # open then...
            row("2", **first, **{L.EVENT_START: "2021-01-01"}),  # ...and in the first file...
            row("2", **{L.EVENT_START: "2021-01-01", L.EVENT_END: "2024-01-31"}),  # ...ended
            row("2", **{L.EVENT_START: "2024-02-01", L.DELIVERY_MECHANISM: L.COMMISSIONED}),
            row("3", **{L.EVENT_END: "2024-03-31"}),  # ends on the snapshot: open, counted
            row("4", **late, **{L.EVENT_END: "2024-01-31"}),  # after the window: not used
            row("5", **fy23, **{L.SERVICE_TYPE: "Short Term Support: ST-Max",
                                L.EVENT_END: "2022-05-01"})]
    done, reasons = run(tmp_path, rows)
    assert reasons == ["history", "outside_window", "superseded_submission", "history",
                       "kept", "kept", "outside_window", "outside_window"]
    assert episodes(done) == [("history", "P1", "2020-01-01", "2022-06-30"),
                              ("history", "P2", "2021-01-01", "2024-01-31"),
                              ("kept", "P2", "2024-02-01", ""),
                              ("kept", "P3", "2022-05-01", "2024-03-31")]
    assert count(done) == (1, 2)


def test_an_ended_part_direct_payment_is_one_episode_with_a_dp(tmp_path: Path) -> None:
    ended = {L.EVENT_END: "2023-12-31"}
    rows = [row("1", **ended, **{L.DELIVERY_MECHANISM: L.COMMISSIONED}), row("1", **ended)]
    done, reasons = run(tmp_path, rows)
    assert reasons == ["another_row_same_person", "history"]
    assert done.episodes["is_dp"].tolist() == [True]


def test_person_id_is_the_council_id(tmp_path: Path) -> None:
    """The episodes carry the council's id (other tables are keyed by it) and the NHS number;
    without a council id, the NHS number stands in, marked."""
    rows = [row("1", **{L.LA_PERSON_ID: " abc-1 "}), row("2", **{L.LA_PERSON_ID: ""})]
    done, _ = run(tmp_path, rows)
    assert done.episodes["person_id"].tolist() == ["abc-1", "NHS N2"]
    assert done.episodes["nhs_number"].tolist() == ["N1", "N2"]


def test_council_id_only_when_not_seen_with_an_nhs_number(tmp_path: Path) -> None:
    rows = [row("1", **{L.LA_PERSON_ID: "P7"}),
            row("2", **{L.NHS_NUMBER: "", L.LA_PERSON_ID: "p7 "}),  # P7 has an NHS number
            row("3", **{L.NHS_NUMBER: ""}),                          # P3 alone: its own id
            row("4", **{L.NHS_NUMBER: "n1 "})]                       # the same NHS number as 1
    done, reasons = run(tmp_path, rows)
    assert reasons == ["kept", "no_usable_id", "kept", "another_row_same_person"]
    assert count(done) == (2, 2)


def test_highest_setting_only(tmp_path: Path) -> None:
    rows = [row("1", **{L.SERVICE_TYPE: L.NURSING, L.DELIVERY_MECHANISM: ""}), row("1"),
            row("2", **{L.SERVICE_TYPE: L.PRISON}),
            row("2", **{L.DELIVERY_MECHANISM: L.COMMISSIONED}),
            row("3", **{L.SERVICE_TYPE: L.RESIDENTIAL})]
    done, reasons = run(tmp_path, rows)
    assert reasons == ["kept", "lower_setting", "lower_setting", "kept", "kept"]
    assert count(done) == (0, 1) and count(done, measure="3D1a") == (0, 1)


def test_mechanisms_blanked_and_direct_payment_by_component(tmp_path: Path) -> None:
    rows = [row("1", **{L.DELIVERY_MECHANISM: "Direct Payments"}),      # not listed: blank
            row("2", **{L.DELIVERY_MECHANISM: L.COMMISSIONED,
                        L.SERVICE_COMPONENT: "Direct Payment"}),         # DP by component
            row("3", **{L.DELIVERY_MECHANISM: L.MANAGED_BUDGET}),        # 1a only
            row("4", **{L.DELIVERY_MECHANISM: " Direct Payment"}),       # ranks 3, not counted
            row("5", **{L.SERVICE_TYPE: L.PRISON, L.DELIVERY_MECHANISM: L.DIRECT_PAYMENT})]
    done, reasons = run(tmp_path, rows)
    assert reasons == ["kept", "kept", "kept", "kept", "prison_setting"]
    assert count(done) == (1, 4) and count(done, measure="3D1a") == (2, 4)


def test_age_at_the_snapshot_from_birth_year_and_month(tmp_path: Path) -> None:
    rows = [row("1", **{L.BIRTH_YEAR: "1959", L.BIRTH_MONTH: "4"}),   # 64.99 years: 18-64
            row("2", **{L.BIRTH_YEAR: "1959", L.BIRTH_MONTH: "3"}),   # 65
            row("3", **{L.BIRTH_YEAR: "2010", L.BIRTH_MONTH: "1"})]   # 14: only in "18+"
    done, _ = run(tmp_path, rows)
    assert count(done, "18-64") == (1, 1)
    assert count(done, "65+") == (1, 1)
    assert count(done, "18+") == (3, 3)  # the SQL's Total has no age filter


def test_lowest_rank_joined_across_councils_as_written(tmp_path: Path) -> None:
    other = {L.LA_CODE: "E06000017", L.LA_NAME: "Rutland"}
    rows = [row("1", **{L.SERVICE_TYPE: L.NURSING}), row("1"),        # Leicester: nursing too
            row("1", **other, **{L.DELIVERY_MECHANISM: L.DIRECT_PAYMENT})]  # Rutland: rank 3
    done, reasons = run(tmp_path, rows)
    # Rutland's minimum (3) matches Leicester's community row: it stays in Leicester's count.
    assert reasons == ["kept", "another_row_same_person", "kept"]
    assert count(done) == (1, 1)


def test_council_file_names_and_defaults(tmp_path: Path) -> None:
    """A council's own file: its id columns, a date of birth, no ImportDate/record id."""
    raw = pd.DataFrame([row("1"), row("2", **{L.NHS_NUMBER: ""})]).drop(
        columns=[L.IMPORT_DATE, L.RECORD_ID, L.BIRTH_YEAR, L.BIRTH_MONTH, L.LA_NAME]).rename(
        columns={L.NHS_NUMBER: "NHS_Number", L.LA_PERSON_ID: "LA_Person_Unique_Identifier"})
    raw["Date_of_Birth"] = "14/06/1953"
    folder = tmp_path / "cld"
    folder.mkdir()
    raw.to_csv(folder / "q4.csv", index=False)
    done = transform([folder / "q4.csv"], SNAP, BY)
    assert count(done) == (2, 2)


@pytest.mark.parametrize(("num", "den", "percent"), [
    (1, 16, 6.3), (1, 8, 12.5), (1, 3, 33.3), (2, 3, 66.7), (0, 5, 0.0), (5, 5, 100.0),
    (1, 1600, 0.1), (1, 2000, 0.1), (1, 2001, 0.0)])
def test_percent_rounded_half_up_as_sql_server(num: int, den: int, percent: float) -> None:
    assert nhs_round(num, den) == percent
