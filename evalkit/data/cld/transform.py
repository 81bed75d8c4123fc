"""Run the CLD transformation: raw CLD files -> ASCOF 3D parts 1a and 2a, the accounting of
every raw row, and the episodes: the cohort (one row per long-term client at the snapshot) and
the episodes that ended before it (history).

`transform(files, period_end, submitted_by)` stages the files (`stage`: a view over them),
runs the SQL steps (`sql.steps`) in an engine (`engine.DuckDB`, out-of-core, by default; or
`spark.Spark`), and brings back only reduced data: the ASCOF table, the reasons table and the
episode rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from evalkit.data.cld import layout as L
from evalkit.data.cld import sql
from evalkit.data.cld.engine import DuckDB, Engine, default_engine, value
from evalkit.data.cld.stage import stage

ASCOF_COLUMNS = ["la_code", "age_band", "measure", "numerator", "denominator", "percent"]
#: Episode columns brought back from DuckDB: `cld_reasons` (r) rows with reason "kept" (the
#: cohort) or "history" (ended episodes), joined with their raw row (w). person_id is the
#: council's person id as written (else "NHS " and the NHS number), so other tables keyed by
#: the council's id (pa_requests, the supplementary table) link; the de-duplication used the
#: amalgamated NHS/council id (`person_key`).
EPISODE_COLUMNS = (
    "r.row_id", "w.source_file", "w.source_row", "r.reason",
    f"COALESCE(TRIM(BOTH ' ' FROM w.{L.LA_PERSON_ID}), "
    f"'NHS ' || TRIM(BOTH ' ' FROM w.{L.NHS_NUMBER})) AS person_id",
    f"TRIM(BOTH ' ' FROM w.{L.NHS_NUMBER}) AS nhs_number",
    "r.la_code_key AS la_code", "r.la_id_key AS la_person_id",
    f"w.{L.BIRTH_YEAR} AS birth_year", f"w.{L.BIRTH_MONTH} AS birth_month",
    f"w.{L.GENDER} AS gender", f"w.{L.ETHNICITY} AS ethnicity",
    f"w.{L.PRIMARY_SUPPORT_REASON} AS primary_support_reason",
    f"w.{L.SERVICE_TYPE} AS service_type", "r.is_dp", "r.is_sds",
    f"w.{L.EVENT_START} AS start_date",
    f"COALESCE(r.history_end, w.{L.EVENT_END}) AS end_date",
    f"w.{L.HAS_UNPAID_CARER} AS has_unpaid_carer", f"w.{L.LSOA} AS area_code",
)


@dataclass(frozen=True)
class Transformed:
    """What the transformation returns: the ASCOF table (`ASCOF_COLUMNS`), the rows per
    reason (reason, rows; they sum to `rows_read`), the episode rows (`EPISODE_COLUMNS`: the
    cohort, reason "kept", and the ended episodes, "history"), and the parameters."""

    ascof: pd.DataFrame
    reasons: pd.DataFrame
    episodes: pd.DataFrame
    rows_read: int
    period_end: dt.date
    submitted_by: dt.date


def default_submitted_by(period_end: dt.date) -> dt.date:
    """One month after the snapshot (NHS England's submission window)."""
    return (pd.Timestamp(period_end) + pd.DateOffset(months=1)).date()


def ascof_table(counts: pd.DataFrame) -> pd.DataFrame:
    """The SQL's counts (la_code, age_band, denominator, num_1a, num_2a) as one row per
    council, age band and measure, with the percent as NHS England rounds it."""
    order = {band: i for i, (band, _, _) in enumerate(L.AGE_BANDS)}
    rows = []
    for r in counts.itertuples(index=False):
        for measure, num in zip(L.MEASURES, (r.num_1a, r.num_2a), strict=True):
            rows.append((r.la_code, r.age_band, measure, int(num), int(r.denominator),
                         L.nhs_round(int(num), int(r.denominator))))
    out = pd.DataFrame(rows, columns=ASCOF_COLUMNS)
    key = out["age_band"].map(order)
    return (out.assign(_k=key).sort_values(["la_code", "_k", "measure"])
            .drop(columns="_k").reset_index(drop=True))


def run_steps(engine: Engine, period_end: dt.date, submitted_by: dt.date) -> None:
    """Create the SQL steps over `cld_raw`: views, and tables for the steps read more than
    once downstream (`sql.MATERIALISED`)."""
    for name, select in sql.steps(period_end, submitted_by):
        engine.create(name, select, name in sql.MATERIALISED)


def default_period_end(engine: Engine) -> dt.date:
    """The latest reporting-period end in the staged files (the latest quarter submitted)."""
    end = value(engine, f"SELECT MAX({L.PERIOD_END}) FROM cld_raw")
    if end is None or pd.isna(end):
        raise ValueError("the CLD files give no Reporting_Period_End_Date; give the snapshot "
                         "date (--period-end)")
    return pd.Timestamp(end).date()


#: The episode rows (`EPISODE_COLUMNS`) of the cohort ("kept") and history, once `reduce` ran:
#: brought back to pandas by `transform`, or written by the engine where they are too many.
EPISODES = (f"SELECT {', '.join(EPISODE_COLUMNS)} FROM cld_reasons r "
            "JOIN cld_raw w ON r.row_id = w.row_id WHERE r.reason IN ('kept', 'history')")


def reduce(files: list[Path], period_end: dt.date | None, submitted_by: dt.date | None,
           engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame, int, dt.date, dt.date]:
    """Stage the files and run every step in the engine; returns the ASCOF table, the rows per
    reason, the rows read, the snapshot and the last import date accepted (see `transform`).
    The episodes stay in the engine (EPISODES)."""
    rows_read = stage(engine, files)
    period_end = default_period_end(engine) if period_end is None else period_end
    submitted_by = default_submitted_by(period_end) if submitted_by is None else submitted_by
    run_steps(engine, period_end, submitted_by)
    counts = engine.frame("SELECT * FROM cld_ascof")
    reasons = engine.frame("SELECT reason, COUNT(*) AS rows FROM cld_reasons GROUP BY reason")
    order = {r: i for i, r in enumerate(sql.REASONS)}
    reasons = (reasons.assign(_k=reasons["reason"].map(order)).sort_values("_k")
               .drop(columns="_k").reset_index(drop=True).astype({"rows": "int64"}))
    return ascof_table(counts), reasons, rows_read, period_end, submitted_by


def transform(files: list[Path], period_end: dt.date | None = None,
              submitted_by: dt.date | None = None, *,
              con: duckdb.DuckDBPyConnection | None = None,
              engine: Engine | None = None) -> Transformed:
    """Raw CLD files -> ASCOF 3D 1a/2a, reasons and episodes (see the module docstring).
    period_end: the snapshot (default: the latest reporting-period end in the files);
    submitted_by: the last import date accepted (default: a month after the snapshot);
    engine: where it runs (default: DuckDB on `con` when given, else `engine.default_engine()`,
    DuckDB unless EVALKIT_CLD_ENGINE says spark)."""
    if engine is None:
        engine = DuckDB(con) if con is not None else default_engine()
    ascof, reasons, rows_read, period_end, submitted_by = reduce(files, period_end,
                                                                 submitted_by, engine)
    episodes = engine.frame(f"{EPISODES} ORDER BY r.row_id")
    return Transformed(ascof, reasons, episodes, rows_read, period_end, submitted_by)
