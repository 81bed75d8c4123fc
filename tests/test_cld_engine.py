"""The CLD engines' wiring: DuckDB reads Parquet in place (the raw rows are a view, not a copy)
under a memory limit with a spill folder; the engine is chosen by `evalkit run --engine` and
`evalkit ascof --engine` through EVALKIT_CLD_ENGINE, and an unknown one is refused."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pytest

from evalkit.cli import build_parser
from evalkit.data.cld import layout as L
from evalkit.data.cld.engine import ENGINE_ENV, DuckDB, chosen, connect, default_engine
from evalkit.data.cld.transform import transform

SNAP, BY = dt.date(2024, 3, 31), dt.date(2024, 4, 30)


def _rows(n: int) -> pd.DataFrame:
    """n community Direct Payment clients of one council in one submission."""
    return pd.DataFrame({
        L.LA_CODE: "E06000016", L.LA_NAME: "Leicester", L.IMPORT_DATE: "2024-04-10",
        L.PERIOD_START: "2023-04-01", L.PERIOD_END: "2024-03-31",
        L.RECORD_ID: [f"R{i}" for i in range(n)], L.NHS_NUMBER: [f"N{i}" for i in range(n)],
        L.LA_PERSON_ID: [f"P{i}" for i in range(n)], L.BIRTH_YEAR: 1950, L.BIRTH_MONTH: 6,
        L.DATE_OF_DEATH: None, L.CLIENT_TYPE: L.SERVICE_USER, L.EVENT_TYPE: "Service",
        L.EVENT_START: "2022-05-01", L.EVENT_END: None, L.SERVICE_TYPE: L.COMMUNITY,
        L.SERVICE_COMPONENT: "Personal Care", L.DELIVERY_MECHANISM: L.DIRECT_PAYMENT})


def test_parquet_is_read_in_place_under_a_memory_limit(tmp_path: Path) -> None:
    _rows(7).to_parquet(tmp_path / "cld.parquet", index=False)
    con = connect("1GB", 1, tmp_path / "spill")
    done = transform([tmp_path / "cld.parquet"], SNAP, BY, engine=DuckDB(con))
    views = {name for (name,) in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()")
              .fetchall()}
    assert "cld_raw" in views and "cld_raw" not in tables and "cld_file_0" in views
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] in (
        "1.0 GB", "953.6 MiB")
    assert Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]) \
        == tmp_path / "spill"
    assert done.rows_read == 7
    assert done.episodes["source_row"].tolist() == list(range(1, 8))  # the file's row numbers
    assert done.ascof.query("age_band == '18+' and measure == '3D2a'")["numerator"].item() == 7


def test_chosen_sets_the_engine_for_a_block_and_restores_it(monkeypatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    with chosen("spark"):
        assert os.environ[ENGINE_ENV] == "spark"
    assert ENGINE_ENV not in os.environ
    monkeypatch.setenv(ENGINE_ENV, "duckdb")
    with chosen(None):
        assert os.environ[ENGINE_ENV] == "duckdb"
    assert isinstance(default_engine(), DuckDB)


def test_an_unknown_engine_is_refused_with_the_choices(monkeypatch) -> None:
    monkeypatch.setenv(ENGINE_ENV, "postgres")
    with pytest.raises(ValueError, match=r"EVALKIT_CLD_ENGINE: unknown engine 'postgres'; "
                                         r"expected one of duckdb, spark"):
        default_engine()


@pytest.mark.parametrize("command", [["run", "data", "--out", "reports"],
                                     ["ascof", "data", "--period-end", "2024-03-31"]])
def test_run_and_ascof_take_an_engine(command: list[str], capsys) -> None:
    parser = build_parser(command[0])
    assert parser.parse_args([*command, "--engine", "spark"]).engine == "spark"
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--engine", "postgres"])
    assert "invalid choice: 'postgres'" in capsys.readouterr().err
