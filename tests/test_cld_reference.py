"""The DuckDB transformation against an independent pandas reading of the SQL
(tests/helpers/cld_reference.py), person by person, on generated raw CLD full of the variants
real submissions have; and every raw row accounted for (rows read = used + set aside)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.data.cld import layout as L
from evalkit.data.cld.sql import REASONS
from evalkit.data.cld.transform import transform
from tests.helpers.cld_reference import reference

SNAP, BY = dt.date(2024, 3, 31), dt.date(2024, 4, 30)

POOLS: dict[str, list[str]] = {
    L.IMPORT_DATE: ["2024-04-10", "2024-04-20 09:00:00", "2024-05-02", "2024-03-30", ""],
    L.PERIOD_START: ["2023-04-01", "2023-04-01", "2023-07-01"],
    L.PERIOD_END: ["2024-03-31", "2024-03-31", "2023-12-31"],
    L.NHS_NUMBER: ["N1", "n1 ", "N2", "N3", "", ""],
    L.LA_PERSON_ID: ["P1", "p1", "P2", "P4", "P5", ""],
    L.BIRTH_YEAR: ["1950", "1959", "1990", "2010", ""],
    L.BIRTH_MONTH: ["1", "3", "4", "12", "", "13"],
    L.DATE_OF_DEATH: ["", "", "2024-03-30", "2024-03-31"],
    L.CLIENT_TYPE: ["Service User", "service user ", "Carer", ""],
    L.EVENT_TYPE: ["Service", "Review"],
    L.EVENT_START: ["2022-01-01", "2024-03-31", "2024-04-01", ""],
    L.EVENT_END: ["", "", "2024-03-30", "2024-03-31", "2025-01-01"],
    L.SERVICE_TYPE: [L.COMMUNITY, L.COMMUNITY, L.NURSING, L.RESIDENTIAL, L.PRISON,
                     "long term support: community ", "Short Term Support: ST-Max", ""],
    L.SERVICE_COMPONENT: ["Direct Payment", "direct payment", "Personal Care", ""],
    L.DELIVERY_MECHANISM: ["Direct Payment", " Direct Payment", "direct payment  ",
                           L.MANAGED_BUDGET, L.COMMISSIONED, "Direct Payments", ""],
}
COUNCILS = [("E06000016", "Leicester"), ("E06000016", "LEICESTER "), ("E06000017", "Rutland"),
            ("", "")]

ROW = st.fixed_dictionaries({
    "council": st.sampled_from(COUNCILS), "record": st.sampled_from(["R", "R", "R", ""]),
    **{col: st.sampled_from(pool) for col, pool in POOLS.items()}})


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Generated rows as raw CLD text (a unique record id, or a blank one)."""
    out = []
    for i, r in enumerate(rows):
        code, name = r["council"]
        cols = {c: v for c, v in r.items() if c not in ("council", "record")}
        out.append({L.LA_CODE: code, L.LA_NAME: name,
                    L.RECORD_ID: f"{r['record']}{i}" if r["record"] else "", **cols})
    return pd.DataFrame(out)


def _ours(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The people evalkit counts in each community denominator, with their 1a/2a flags."""
    got = con.sql("""SELECT la_code_key AS la_code, age_band, person_key AS person,
        bool_or(is_sds) AS sds, bool_or(is_dp) AS dp FROM cld_band_kept WHERE is_community
        GROUP BY ALL""").df()
    return got


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return (frame.astype({"sds": bool, "dp": bool}).sort_values(["la_code", "age_band", "person"])
            .reset_index(drop=True))


def _check(raw: pd.DataFrame, folder: Path) -> None:
    raw.to_csv(folder / "cld.csv", index=False)
    con = duckdb.connect()
    done = transform([folder / "cld.csv"], SNAP, BY, con=con)
    assert done.rows_read == len(raw) == int(done.reasons["rows"].sum())
    assert set(done.reasons["reason"]) <= set(REASONS)
    text = pd.read_csv(folder / "cld.csv", dtype=str, keep_default_na=False)
    want = _sorted(reference(text, SNAP, BY))
    pd.testing.assert_frame_equal(_sorted(_ours(con)), want)
    # and the published counts are those people counted
    counts = want.groupby(["la_code", "age_band"]).agg(
        denominator=("person", "size"), n1a=("sds", "sum"), n2a=("dp", "sum"))
    for r in done.ascof.itertuples(index=False):
        assert r.denominator == counts.loc[(r.la_code, r.age_band), "denominator"]
        assert r.numerator == counts.loc[(r.la_code, r.age_band),
                                         "n1a" if r.measure == "3D1a" else "n2a"]
    assert len(done.ascof) == 2 * len(counts)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=30))
def test_agrees_with_the_reference_and_accounts_for_every_row(rows: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _check(_frame(rows), Path(folder))


def test_agrees_on_a_larger_generated_file(tmp_path: Path) -> None:
    """Two thousand rows drawn from the pools with a fixed seed (many people in several
    settings, councils and submissions at once)."""
    rng = pd.Series(range(2000)).sample(frac=1, random_state=7).to_numpy()
    rows = [{"council": COUNCILS[(i * 7) % len(COUNCILS)], "record": "R" if i % 37 else "",
             **{c: p[(i * (k + 3) + rng[i]) % len(p)] for k, (c, p) in enumerate(POOLS.items())}}
            for i in range(2000)]
    _check(_frame(rows), tmp_path)
