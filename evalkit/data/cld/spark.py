"""The CLD transformation on Apache Spark: the same SQL as DuckDB's (`sql.steps` and the typing
in `stage`), transpiled from DuckDB's dialect to Spark SQL by SQLGlot, never a second copy.

`Spark(session)` runs in the given SparkSession; without one, `SparkSession.builder
.getOrCreate()` builds it from the standard Spark configuration (spark-defaults.conf,
`PYSPARK_SUBMIT_ARGS`, `SPARK_REMOTE`...), so pointing evalkit at a cluster needs no code.
Files are read with Spark's readers (a path the cluster can see). Steps the transformation
reads more than once are cached; only the reduced results come back to pandas.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlglot
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from sqlglot import exp
from sqlglot.dialects.spark import Spark as SparkDialect

from evalkit.data.cld.engine import unreadable


def _try_strptime(node: exp.Expression) -> exp.Expression:
    """DuckDB's TRY_STRPTIME (a date that cannot be read gives NULL) as Spark's
    TRY_TO_TIMESTAMP, with the format in Spark's pattern letters."""
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TRY_STRPTIME":
        text, fmt = node.expressions
        pattern = exp.StrToTime(this=text, format=fmt).sql(dialect="spark")
        return sqlglot.parse_one(f"TRY_{pattern}", read="spark")
    return node


def to_spark(select: str) -> str:
    """A SELECT in DuckDB's SQL as Spark SQL (an error if SQLGlot cannot translate a part)."""
    tree = sqlglot.parse_one(select, read="duckdb").transform(_try_strptime)
    return tree.sql(dialect=SparkDialect, unsupported_level=sqlglot.ErrorLevel.RAISE)


def _numbered(frame: DataFrame) -> DataFrame:
    """The rows with `n`, their number in the file from 1 in file order (as DuckDB numbers
    them): the row's place in its partition plus the rows of the partitions before it."""
    tagged = frame.select("*", F.spark_partition_id().alias("_p"),
                          F.monotonically_increasing_id().alias("_i"))
    before = Window.orderBy("_p").rowsBetween(Window.unboundedPreceding, -1)
    starts = (tagged.groupBy("_p").agg(F.min("_i").alias("_lo"), F.count("*").alias("_c"))
              .select("_p", "_lo", F.coalesce(F.sum("_c").over(before), F.lit(0)).alias("_o")))
    return (tagged.join(F.broadcast(starts), "_p")
            .select(*[F.col(f"`{c}`") for c in frame.columns],
                    (F.col("_i") - F.col("_lo") + F.col("_o") + 1).alias("n")))


def _like_duckdb(frame: pd.DataFrame) -> pd.DataFrame:
    """Spark's pandas frame with the column types DuckDB gives: integers as int64, dates as
    datetime64 (Spark gives datetime.date objects)."""
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_integer_dtype(values):
            frame[col] = values.astype("int64")
        elif values.dtype == object and values.map(lambda v: isinstance(v, dt.date)).any():
            frame[col] = pd.to_datetime(values).astype("datetime64[us]")
    return frame


class Spark:
    """The transformation in a SparkSession (see the module docstring)."""

    name = "spark"
    #: The typed raw rows are kept once (Spark re-plans a view's whole expression in every
    #: step that reads it).
    materialise_raw = True

    def __init__(self, session: SparkSession | None = None) -> None:
        self.session = session or SparkSession.builder.getOrCreate()
        self.cached: list[DataFrame] = []

    def read(self, path: Path, view: str) -> dict[str, str]:
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                frame = self.session.read.parquet(str(path))
            elif suffix == ".csv":
                frame = self.session.read.csv(str(path), header=True, inferSchema=False,
                                              mode="FAILFAST", multiLine=True, escape='"')
            else:
                frame = self.session.createDataFrame(pd.read_excel(path, dtype=str)
                                                     .astype(object).where(lambda f: f.notna()))
            types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
            self._keep(_numbered(frame), view)  # numbered once, read by several steps
        except (PySparkException, ValueError, OSError) as err:
            raise unreadable(path) from err
        return types

    def create(self, name: str, select: str, materialise: bool) -> None:
        frame = self.session.sql(to_spark(select))
        if materialise:
            self._keep(frame, name)
        else:
            frame.createOrReplaceTempView(name)

    def _keep(self, frame: DataFrame, name: str) -> None:
        """The frame computed now and kept on the executors (memory, else disk) as `name`:
        later steps read it without recomputing it, and their plans stay small."""
        kept = frame.localCheckpoint(eager=True)
        self.cached.append(kept)
        kept.createOrReplaceTempView(name)

    def frame(self, select: str) -> pd.DataFrame:
        return _like_duckdb(self.session.sql(to_spark(select)).toPandas())

    def release(self) -> None:
        """Drop the cached steps (the session stays for the next transformation)."""
        for frame in self.cached:
            frame.unpersist()
        self.cached.clear()
