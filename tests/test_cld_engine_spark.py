"""One definition, two engines: the CLD transformation on Spark (local mode, the SQL transpiled
by SQLGlot) gives exactly DuckDB's ASCOF 3D, accounting, every row's reason and the episodes
on the same raw files (a small synthetic CLD, stacked as a CSV and a Parquet submission)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyspark")

from pyspark.sql import SparkSession  # noqa: E402

from evalkit.data.cld import layout as L  # noqa: E402
from evalkit.data.cld.engine import DuckDB, chosen, default_engine  # noqa: E402
from evalkit.data.cld.spark import Spark, to_spark  # noqa: E402
from evalkit.data.cld.transform import Transformed, transform  # noqa: E402
from evalkit.synth.generator import synthesise  # noqa: E402

SNAP, BY = dt.date(2026, 3, 31), dt.date(2026, 4, 30)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local Spark session for the test session (starting one takes 10-20 s)."""
    session = (SparkSession.builder.master("local[1]").appName("evalkit-tests")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "1")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .getOrCreate())
    yield session
    session.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Synthetic raw CLD (stale versions, resubmissions, missing ids, deaths, carers...) as
    two files: the first rows as CSV, every third start date written day first and a few
    values that cannot be read; the rest as Parquet, some dates typed as Parquet dates."""
    folder = tmp_path_factory.mktemp("cld_engines")
    synthesise(folder / "synth", profile="leicester", scale=0.05, seed=5, fmt="cld")
    text = pd.read_csv(folder / "synth" / "cld.csv", dtype=str, keep_default_na=False)
    half = len(text) // 2
    first = text.iloc[:half].copy()
    every_third = first.index[::3]
    first.loc[every_third, L.EVENT_START] = pd.to_datetime(
        first.loc[every_third, L.EVENT_START]).dt.strftime("%d/%m/%Y")
    first.loc[first.index[1:40:13], L.DATE_OF_DEATH] = ["31/02/2024", "soon", "2024-13-01"]
    first.loc[first.index[2], L.BIRTH_MONTH] = "June"
    first.to_csv(folder / "a.csv", index=False)
    second = text.iloc[half:].replace("", None)
    for col in (L.EVENT_START, L.EVENT_END, L.DATE_OF_DEATH, L.IMPORT_DATE):  # typed dates
        second[col] = pd.to_datetime(second[col]).astype("datetime64[us]")
    second.to_parquet(folder / "b.parquet", index=False)
    return [folder / "a.csv", folder / "b.parquet"]


def _row_reasons(engine: DuckDB | Spark) -> pd.DataFrame:
    return engine.frame("SELECT row_id, reason, person_key, rank, age FROM cld_reasons "
                        "ORDER BY row_id")


@pytest.fixture(scope="module")
def both(files: list[Path], spark: SparkSession
         ) -> tuple[tuple[Transformed, pd.DataFrame], tuple[Transformed, pd.DataFrame]]:
    duck, on_spark = DuckDB(), Spark(spark)
    out_duck = transform(files, SNAP, BY, engine=duck)
    out_spark = transform(files, SNAP, BY, engine=on_spark)
    rows = _row_reasons(duck), _row_reasons(on_spark)
    on_spark.release()
    return (out_duck, rows[0]), (out_spark, rows[1])


def test_spark_gives_duckdbs_ascof_3d_and_accounting(both) -> None:
    (duck, _), (spark, _) = both
    assert duck.rows_read == spark.rows_read
    assert len(duck.ascof) > 0 and (duck.ascof["denominator"] > 0).all()
    pd.testing.assert_frame_equal(spark.ascof, duck.ascof)
    pd.testing.assert_frame_equal(spark.reasons, duck.reasons)
    assert set(duck.reasons["reason"]) >= {"kept", "history", "superseded_submission",
                                           "lower_setting", "unreadable_value"}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values only: a missing value as None whatever the engine's pandas type (Spark's FLOOR
    gives integers where DuckDB's gives floats, an empty text column nan where DuckDB's None)."""
    return frame.astype(object).where(frame.notna(), None)


def test_spark_gives_every_row_the_same_reason_and_person(both) -> None:
    (_, duck_rows), (_, spark_rows) = both
    pd.testing.assert_frame_equal(_plain(spark_rows), _plain(duck_rows), check_dtype=False)


def test_spark_gives_the_same_reduced_cohort_and_history(both) -> None:
    (duck, _), (spark, _) = both
    assert (duck.episodes["reason"] == "kept").sum() > 100
    pd.testing.assert_frame_equal(_plain(spark.episodes), _plain(duck.episodes),
                                  check_dtype=False)


def test_the_spark_engine_is_chosen_by_name(spark: SparkSession) -> None:
    """`evalkit run --engine spark` (EVALKIT_CLD_ENGINE) gives the session already built."""
    with chosen("spark"):
        engine = default_engine()
    assert isinstance(engine, Spark) and engine.session is spark


def test_day_first_dates_become_sparks_try_to_timestamp() -> None:
    """DuckDB's TRY_STRPTIME (NULL when a date cannot be read) becomes Spark's
    TRY_TO_TIMESTAMP with Spark's pattern letters, not TO_TIMESTAMP (which raises)."""
    got = to_spark("SELECT TRY_STRPTIME(x, '%d/%m/%Y %H:%M') AS t FROM f")
    assert got.startswith("SELECT TRY_TO_TIMESTAMP(x, '") and "yyyy" in got
