"""`evalkit ascof DATA_DIR --period-end YYYY-MM-DD [--submitted-by YYYY-MM-DD] [--csv]
[--engine duckdb|spark]`:
ASCOF 3D parts 1a and 2a from raw CLD, by council and age band, as NHS England computes them,
so an analyst can compare with the published figures before publishing anything.

Prints la_code, age_band (18-64, 65+, 18+), measure (3D1a, 3D2a), numerator, denominator and
percent (rounded as NHS England rounds: one decimal, halves up), then the accounting of every
raw row (rows read = rows used + rows set aside, with reasons). Only counts are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from evalkit.data.cld.engine import ENGINES, default_engine
from evalkit.data.cld.sql import REASONS
from evalkit.data.cld.stage import cld_files
from evalkit.data.contract import ContractError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from err


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `evalkit ascof`."""
    parser.add_argument("data_dir", type=Path, metavar="DATA_DIR",
                        help="folder with raw CLD: cld.csv, cld.parquet, cld.xlsx or cld/")
    parser.add_argument("--period-end", type=_date, required=True,
                        help="the snapshot date (YYYY-MM-DD), e.g. 2025-03-31")
    parser.add_argument("--submitted-by", type=_date, default=None,
                        help="last import date accepted (YYYY-MM-DD); default one month "
                             "after the snapshot")
    parser.add_argument("--csv", action="store_true",
                        help="print the table as CSV only (no accounting)")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help="duckdb (default) or spark (the SparkSession of the standard Spark "
                             "configuration)")


def main(args: argparse.Namespace) -> int:
    """Print the ASCOF 3D table; 1 with a message when the folder cannot be used."""
    from evalkit.data.cld.transform import transform  # only for this command

    try:
        files = cld_files(args.data_dir) if args.data_dir.is_dir() else []
        if not files:
            raise ContractError(f"{args.data_dir}: no raw CLD found; expected cld.csv, "
                                "cld.parquet, cld.xlsx or a folder cld/")
        done = transform(files, args.period_end, args.submitted_by,
                         engine=default_engine(args.engine))
    except ContractError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.csv:
        print(done.ascof.to_csv(index=False), end="")
        return 0
    print(f"ASCOF 3D from raw CLD: snapshot {done.period_end}, submissions imported by "
          f"{done.submitted_by}")
    print(done.ascof.to_string(index=False) if len(done.ascof)
          else "no council has a community client at the snapshot")
    print(f"\nRaw CLD rows: {done.rows_read:,} read")
    for reason, rows in done.reasons.itertuples(index=False):
        print(f"  {REASONS[reason]:<72} {rows:>10,}")
    return 0
