"""Where the CLD transformation runs. An engine reads raw files as relations of text, creates
the SQL steps (written once, in DuckDB's SQL: `evalkit.data.cld.sql` and the typing in
`stage`) and brings back only reduced results as pandas frames.

`DuckDB` (the default) is embedded and out-of-core: Parquet files are read where they lie
(views, never copied into memory), each step streams from them, and a memory limit with a
temporary folder makes DuckDB spill what does not fit to disk, so memory is bounded by the
reduced data. `evalkit.data.cld.spark.Spark` runs the same SQL on Apache Spark.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from evalkit.data.contract import ContractError

ENGINES = ("duckdb", "spark")
#: Names the engine `evalkit.load` and `evalkit ascof` use when none is given (`evalkit run
#: --engine` sets it for the run and its notebooks); default duckdb.
ENGINE_ENV = "EVALKIT_CLD_ENGINE"
#: DuckDB's memory limit unless EVALKIT_DUCKDB_MEMORY says otherwise (e.g. "8GB"): what the
#: transformation may hold before spilling to disk (it needs far less than the raw files).
MEMORY_LIMIT = "3GB"
MEMORY_ENV = "EVALKIT_DUCKDB_MEMORY"


class Engine(Protocol):
    """What the transformation needs of an engine."""

    #: Whether `cld_raw` (the typed raw rows) is kept rather than a view over the files.
    materialise_raw: bool

    def read(self, path: Path, view: str) -> dict[str, str]:
        """Create the relation `view`: the file's rows with its columns (Parquet as typed,
        CSV and xlsx as text) and `n`, the row's number in the file from 1; returns the
        file's headings with their types (the engine's names). A file that cannot be read
        raises ContractError."""

    def create(self, name: str, select: str, materialise: bool) -> None:
        """Create the relation `name` from a SELECT in DuckDB's SQL (kept when `materialise`,
        else a view)."""

    def frame(self, select: str) -> pd.DataFrame:
        """The rows of a SELECT (DuckDB's SQL) as a pandas frame (reduced data only)."""


@contextmanager
def chosen(name: str | None) -> Iterator[None]:
    """EVALKIT_CLD_ENGINE set to `name` within the block (as it was when `name` is None), so a
    `load` inside it transforms raw CLD there."""
    before = os.environ.get(ENGINE_ENV)
    if name is not None:
        os.environ[ENGINE_ENV] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENGINE_ENV, None)
        else:
            os.environ[ENGINE_ENV] = before


def default_engine(name: str | None = None) -> Engine:
    """The engine called `name` (default: EVALKIT_CLD_ENGINE, else duckdb). Spark is imported
    only when asked for; its session comes from the standard Spark configuration."""
    name = (name or os.environ.get(ENGINE_ENV) or "duckdb").lower()
    if name not in ENGINES:
        raise ValueError(f"{ENGINE_ENV}: unknown engine {name!r}; expected one of "
                         f"{', '.join(ENGINES)}")
    if name == "spark":
        from evalkit.data.cld.spark import Spark  # PySpark only when Spark is asked for

        return Spark()
    return DuckDB()


def unreadable(path: Path) -> ContractError:
    """A file the readers cannot read, described without quoting its contents."""
    what = {".csv": "CSV text in UTF-8 with a header row and one delimiter",
            ".parquet": "a Parquet file", ".xlsx": "an Excel workbook with the table on its "
            "first sheet"}[path.suffix.lower()]
    return ContractError(f"{path.name}: cannot be read; expected {what}")


def bad_csv_row(path: Path) -> ContractError:
    """A CSV whose rows do not all fit its header."""
    return ContractError(f"{path.name}: a row cannot be read (more or fewer values than the "
                         "header, or a stray quote); expected CSV text in UTF-8 with one "
                         "delimiter")


def value(engine: Engine, select: str) -> object:
    """The first value of a SELECT's first row."""
    return engine.frame(select).iat[0, 0]


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(memory_limit: str | None = None, threads: int | None = None,
            temp_directory: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to `temp_directory` (default: a folder of
    this process under the system's temporary folder) beyond `memory_limit` (default
    `MEMORY_LIMIT`, or EVALKIT_DUCKDB_MEMORY)."""
    folder = temp_directory or Path(tempfile.gettempdir()) / f"evalkit-duckdb-{os.getpid()}"
    config: dict[str, str | int] = {
        "memory_limit": memory_limit or os.environ.get(MEMORY_ENV) or MEMORY_LIMIT,
        "temp_directory": str(folder)}
    if threads:
        config["threads"] = threads
    return duckdb.connect(config=config)


class DuckDB:
    """The transformation in DuckDB: Parquet read in place, CSV and xlsx copied once as text
    (a table DuckDB spills to disk beyond its memory limit)."""

    name = "duckdb"
    #: The typed raw rows stay a view over the files (each step streams from them).
    materialise_raw = False

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = connect() if con is None else con
        quiet(self.con)

    def read(self, path: Path, view: str) -> dict[str, str]:
        suffix = path.suffix.lower()
        try:
            if suffix == ".parquet":
                self.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * EXCLUDE (file_row_number), "
                    f"file_row_number + 1 AS n FROM read_parquet({_quoted(path)}, "
                    "file_row_number = true)")
            elif suffix == ".csv":
                self.con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {view} AS SELECT *, ROW_NUMBER() OVER () AS n "
                    f"FROM read_csv({_quoted(path)}, all_varchar = true, header = true)")
            else:
                frame = pd.read_excel(path, dtype=str)
                frame = frame.assign(n=range(1, len(frame) + 1))
                self.con.register(f"{view}_xlsx", frame)
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE {view} AS "
                                 f"SELECT * FROM {view}_xlsx")
                self.con.unregister(f"{view}_xlsx")
            types = {d[0]: d[1] for d in self.con.sql(f"DESCRIBE {view}").fetchall()}
        except duckdb.InvalidInputException as err:  # the reader's text may quote a row
            raise (bad_csv_row(path) if suffix == ".csv" else unreadable(path)) from err
        except (duckdb.Error, ValueError, OSError) as err:
            raise unreadable(path) from err
        return {h: t for h, t in types.items() if h != "n"}

    def create(self, name: str, select: str, materialise: bool) -> None:
        kind = "TABLE" if materialise else "VIEW"
        self.con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {select}")

    def frame(self, select: str) -> pd.DataFrame:
        return self.con.sql(select).df()


def quiet(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's progress bar off (it prints into a terminal or log). In Jupyter it is off
    already, and setting it raises when ipywidgets is absent, so it is set only when on."""
    if con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]:
        con.execute("SET enable_progress_bar = false")
