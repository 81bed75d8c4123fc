"""Benchmark: raw CLD rows -> ASCOF 3D and the cohort (rows per second, peak memory), on
DuckDB or Spark local mode.

    .venv/bin/python benchmarks/bench_cld.py --rows 1000000 10000000 [--work DIR] [--threads 2]
        [--memory-limit 3GB] [--engine duckdb|spark]

For each size, writes synthetic England raw CLD of about that many rows as Parquet with `evalkit
synth --format cld` (the England profile at the scale that gives the rows; generation is not
timed). The generator draws every person of the country before streaming their rows, and one
call has written 12.4M rows at most; above PART_ROWS rows the extract is written in parts: part
k is England at 1/K of the scale with seed k, its record ids, council person ids and NHS numbers
made its own (`UNIQUE_IDS`), so the parts together are one national extract with K times the
people of each council in the same submissions. Then it runs
`evalkit.data.cld.transform.transform` on the file(s) in a fresh process and prints rows, wall
seconds, rows per second and the peak resident memory of the process and its children (Spark's
JVM), sampled every 0.2 s (the cohort is brought back to pandas, as `evalkit.load` does, unless
--episodes-to-parquet). DuckDB spills beyond its memory limit to a folder beside the file; Spark
runs `local[threads]` with the driver's memory at the limit.

    .venv/bin/python benchmarks/bench_cld.py --disagreements [--work DIR]

counts, on the demo data (synthetic Leicester, seed 1, as `make report` writes it), the people
each difference between NHS England's SQL and its notes moves (docs/cld.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil

from evalkit.data.cld.engine import ENGINES, DuckDB, Engine, connect
from evalkit.data.cld.layout import LA_PERSON_ID, NHS_NUMBER, RECORD_ID
from evalkit.data.cld.transform import EPISODES, reduce, transform
from evalkit.synth.generator import synthesise

ROWS_PER_SCALE = 1.02e7  # England raw CLD rows at scale 1 (12.4M at scale 1.21, seed 1)
PART_ROWS = 12_500_000  # the most raw rows generated in one part (12.4M were generated whole)
#: Rewrites a part's ids (record, council person, NHS number) so no other part has them.
UNIQUE_IDS = (f"COPY (SELECT * REPLACE ({RECORD_ID} + {{offset}} AS {RECORD_ID}, "
              f"'{{tag}}' || {LA_PERSON_ID} AS {LA_PERSON_ID}, "
              f"'{{tag}}' || {NHS_NUMBER} AS {NHS_NUMBER}) FROM read_parquet('{{src}}')) "
              "TO '{dst}' (FORMAT parquet)")
SNAP, BY = dt.date(2026, 3, 31), dt.date(2026, 4, 30)


class PeakMemory:
    """The largest resident memory of this process and its children, sampled in a thread."""

    def __init__(self) -> None:
        self.peak, self.done = 0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self.done.wait(0.2):
            procs = [me, *me.children(recursive=True)]
            rss = 0
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    rss += proc.memory_info().rss
            self.peak = max(self.peak, rss)

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak


def _engine(name: str, path: Path, threads: int, memory_limit: str | None) -> Engine:
    """DuckDB spilling beside the file, or a local Spark session with `threads` cores."""
    if name == "duckdb":
        return DuckDB(connect(memory_limit, threads, path.parent / "spill"))
    from pyspark.sql import SparkSession

    from evalkit.data.cld.spark import Spark

    session = (SparkSession.builder.master(f"local[{threads}]")
               .config("spark.driver.memory", (memory_limit or "3GB").replace("GB", "g"))
               .config("spark.local.dir", str(path.parent / "spill"))
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    return Spark(session)


def measure(paths: list[Path], threads: int, memory_limit: str | None, engine: str,
            to_parquet: bool = False) -> dict[str, float]:
    """Transform the files (one extract) in this process: rows, seconds, rows/s, peak RSS
    (MiB). With `to_parquet` (DuckDB) the episodes are written by DuckDB to a Parquet file
    beside the first file instead of brought back to pandas."""
    peak = PeakMemory()
    start = time.perf_counter()
    runner = _engine(engine, paths[0], threads, memory_limit)
    if to_parquet:  # DuckDB only: main() refuses it with Spark
        _, reasons, rows, _, _ = reduce(paths, SNAP, BY, runner)
        out = paths[0].parent / "episodes.parquet"
        runner.con.execute(f"COPY ({EPISODES}) TO '{out}' (FORMAT parquet)")
        counts = dict(zip(reasons["reason"], reasons["rows"], strict=True))
    else:
        done = transform(paths, SNAP, BY, engine=runner)
        rows, counts = done.rows_read, done.episodes["reason"].value_counts().to_dict()
    seconds = time.perf_counter() - start
    return {"engine": engine, "rows": rows, "seconds": round(seconds, 1),
            "rows_per_second": round(rows / seconds), "peak_mib": round(peak.stop() / 2**20),
            "episodes_to": "parquet" if to_parquet else "pandas",
            "cohort": int(counts.get("kept", 0)), "history": int(counts.get("history", 0))}


def bench(rows: int, work: Path, threads: int, memory_limit: str | None, engine: str,
          to_parquet: bool = False) -> dict[str, float]:
    """Generate about `rows` raw CLD rows (if not there yet) and measure in a fresh process."""
    files = generate(rows, work / f"england_{rows}")
    limit = ["--memory-limit", memory_limit] if memory_limit else []
    measured = [arg for path in files for arg in ("--measure", str(path))]
    out = subprocess.run([sys.executable, __file__, *measured, "--threads", str(threads),
                          "--engine", engine, *limit,
                          *(["--episodes-to-parquet"] if to_parquet else [])],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def generate(rows: int, folder: Path) -> list[Path]:
    """The raw CLD files of about `rows` rows in `folder`, written if not there yet: one file,
    or above PART_ROWS one per part, each with ids of its own (see the module docstring)."""
    parts = -(-rows // PART_ROWS)
    scale = rows / parts / ROWS_PER_SCALE
    if parts == 1:
        if not (folder / "cld.parquet").exists():
            synthesise(folder, profile="england", scale=scale, fmt="cld", file_format="parquet")
        return [folder / "cld.parquet"]
    files = [folder / f"cld_part{k}.parquet" for k in range(1, parts + 1)]
    for k, path in enumerate(files, start=1):
        if path.exists():
            continue
        part = folder / f"part{k}"
        synthesise(part, profile="england", scale=scale, seed=k, fmt="cld",
                   file_format="parquet")
        tmp = path.with_suffix(".tmp")
        duckdb.execute(UNIQUE_IDS.format(offset=k * 10**10, tag=f"{k}-",
                                         src=part / "cld.parquet", dst=tmp))
        tmp.replace(path)
        shutil.rmtree(part)
    return files


def _count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    (n,) = con.execute(query).fetchall()[0]
    return int(n)


def disagreements(work: Path) -> dict[str, int]:
    """People (or rows) each SQL-versus-notes difference moves on the demo data."""
    folder = work / "demo"
    if not (folder / "cld.csv").exists():
        synthesise(folder, profile="leicester", seed=1, fmt="cld")
    con = duckdb.connect()
    base = transform([folder / "cld.csv"], SNAP, BY, con=con)
    fy = "DATE '2025-04-01'"
    who = "COALESCE(nhs_key, la_id_key)"
    new = (f"SELECT COUNT(DISTINCT {who}) FROM cld_reasons WHERE is_community AND {who} NOT IN "
           "(SELECT person_key FROM cld_band_kept WHERE age_band = '18+') AND ")
    kept = "SELECT COUNT(DISTINCT person_key) FROM cld_reasons WHERE reason = 'kept' AND "
    out = {
        "18+ holds under-18s (Total has no age filter)": _count(
            con, "SELECT COUNT(DISTINCT k.person_key) FROM cld_band_kept k JOIN cld_ids i "
                 "ON k.row_id = i.row_id WHERE k.age_band = '18+' AND k.is_community "
                 "AND i.age < 18"),
        "no birth month: out of the total too (notes: only the age bands)": _count(
            con, new + "reason_pre = 'no_birth_month'"),
        "in-year period (PDF) instead of the snapshot: ended in the year": _count(
            con, new + f"reason_pre = 'not_open_at_snapshot' AND Event_End_Date >= {fy}"),
        "in-year period (PDF) instead of the snapshot: died in the year": _count(
            con, new + f"reason_pre = 'died_before_snapshot' AND Date_of_Death >= {fy}"),
        "invalid mechanism kept (blanked), notes: invalid fields removed": _count(
            con, kept + "is_community AND NOT dm_valid AND dm_key IS NOT NULL"),
        "leading space in Delivery_Mechanism: ranked DP, not counted DP": _count(
            con, kept + "is_community AND dm_valid AND dm_trim_key = 'DIRECT PAYMENT' "
                        "AND NOT is_dp"),
        "lowest rank joined across councils": _count(
            con, "SELECT COUNT(*) FROM (SELECT la_code_key, person_key FROM cld_band_kept "
                 "WHERE age_band = '18+' GROUP BY la_code_key, person_key "
                 "HAVING COUNT(DISTINCT rank) > 1)"),
    }
    late = transform([folder / "cld.csv"], SNAP, dt.date(2026, 7, 31))
    moved = base.ascof.merge(late.ascof, on=["la_code", "age_band", "measure"])
    for r in moved[moved["age_band"] == "18+"].itertuples(index=False):
        out[f"window to 31 July (PDF) instead of a month: {r.measure} numerator change"] = \
            int(r.numerator_y - r.numerator_x)
        out["window to 31 July (PDF): denominator change"] = int(r.denominator_y -
                                                                 r.denominator_x)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--work", type=Path, default=None, help="folder for generated data")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default=None,
                        help="DuckDB's memory limit or Spark's driver memory, e.g. 2GB "
                             "(default: evalkit's, engine.MEMORY_LIMIT)")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb")
    parser.add_argument("--episodes-to-parquet", action="store_true",
                        help="DuckDB writes the cohort and history to Parquet instead of "
                             "bringing them back to pandas (national data)")
    parser.add_argument("--measure", type=Path, action="append", help=argparse.SUPPRESS)
    parser.add_argument("--disagreements", action="store_true")
    args = parser.parse_args()
    if args.episodes_to_parquet and args.engine != "duckdb":
        parser.error("--episodes-to-parquet: DuckDB only (Spark would write them with its own "
                     "writer; not measured)")
    if args.measure:
        print(json.dumps(measure(args.measure, args.threads, args.memory_limit, args.engine,
                                 args.episodes_to_parquet)))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_cld_"))
    if args.disagreements:
        for name, n in disagreements(work).items():
            print(f"{n:>8,}  {name}")
        return 0
    for rows in args.rows:
        print(json.dumps(bench(rows, work, args.threads, args.memory_limit, args.engine,
                               args.episodes_to_parquet)),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
