"""`evalkit run`: validate a data folder, run the notebooks, render and gate the reports.

    evalkit run DATA_DIR --out REPORT_DIR [--la CODE ...] [--notebooks 01,02,03]
                [--param key=value ...] [--params-file FILE.yaml] [--jobs N] [--min-cell N]
                [--notebook-dir DIR]

Steps: start the forkserver that imports papermill and nbconvert once for the workers
(`evalkit.run.preload`) while this process loads and validates the data with `evalkit.load`
(stop, exit 2, before any notebook runs if it cannot be used: `evalkit.run.plan`) and caches the
validated tables in a private temporary folder, removed at the end, so each notebook's
`evalkit.load` reuses them instead of validating again (the cache is never inside REPORT_DIR,
which is for publishing); execute each notebook with papermill and its own standard kernel once
per council, `--jobs` at a time, each in its own worker (default jobs: all notebooks of a council
at once, at most cores + 1); render its HTML with code hidden in the same worker right after it
runs (`evalkit.run.execute`); run the privacy gate (`evalkit.sdc.gate`) on each notebook as it
finishes; write per council `REPORT_DIR/<la_code>/manifest.json` (`evalkit.run.manifest`) and
each notebook's outputs under `REPORT_DIR/<la_code>/<NN_name>/`; write `REPORT_DIR/index.html`
(`evalkit.run.index`). Exit 0 only when every notebook succeeded and passed the gate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evalkit import __version__
from evalkit.data import load as loader
from evalkit.paths import NOTEBOOK_DIR
from evalkit.run import manifest as record
from evalkit.run.execute import SUCCEEDED, Task, execute, now
from evalkit.run.index import council_label, write_index
from evalkit.run.plan import (
    Plan,
    RunError,
    check_options,
    councils,
    default_jobs,
    load_data,
    table_bytes,
)
from evalkit.run.preload import start_forkserver, worker_context
from evalkit.sdc import gate as privacy

EXIT_FAILED, EXIT_UNUSABLE = 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `evalkit run`."""
    parser.add_argument("data_dir", type=Path, help="data folder in the evalkit data contract")
    parser.add_argument("--out", type=Path, required=True, help="report folder to write")
    parser.add_argument("--la", nargs="+", action="extend", metavar="CODE",
                        help="council code(s), or 'all' for all councils together; default: the "
                             "only council in the data, or all")
    parser.add_argument("--notebooks", default=None, metavar="01,02,03",
                        help="comma-separated notebook numbers to run (default: all)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="extra notebook parameter; VALUE is read as YAML (5, 0.9, true, text)")
    parser.add_argument("--params-file", type=Path, metavar="FILE.yaml",
                        help="YAML mapping of notebook parameters; --param overrides it")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="notebooks to run at once, each in its own process (default: the "
                             "number of notebooks, at most cores + 1, fewer when the data are so "
                             "large that running them together would need over 4 GiB)")
    parser.add_argument("--date-order", choices=list(loader.DATE_ORDERS), default=None,
                        help="how to read dates written with the day and month as numbers: dmy "
                             "(05/03/2022 is 5 March) or mdy; default dmy, and an error if some "
                             "dates can only be mdy (as `evalkit validate --date-order`)")
    parser.add_argument("--min-cell", type=int, default=5, metavar="N",
                        help="disclosure threshold: counts 1..N-1 are suppressed (default 5)")
    parser.add_argument("--notebook-dir", type=Path, default=NOTEBOOK_DIR, metavar="DIR",
                        help=f"folder holding NN_name.ipynb notebooks (default {NOTEBOOK_DIR})")


def tasks_for(p: Plan, environ: Mapping[str, str]) -> list[Task]:
    """One task per council per notebook, each writing into REPORT_DIR/<la>/<NN_name>/, its
    kernel given `environ`."""
    details = [f"Run on {dt.date.today().isoformat()} with evalkit {__version__}",
               f"Disclosure threshold: counts below {p.min_cell} are suppressed"]
    return [Task(la, nb, p.out / la / nb.stem, f"{nb.stem} — {council_label(la)}", details,
                 {**p.params, "data_dir": str(p.data_dir), "la_code": la,
                  "results_path": str(p.out / la / nb.stem / "results.json"),
                  "min_cell": p.min_cell}, dict(environ))
            for la in p.las for nb in p.notebooks]


def run_tasks(tasks: list[Task], jobs: int) -> Iterator[dict[str, Any]]:
    """Execute tasks, `jobs` at a time, each in a worker process (on Linux a fork of the
    forkserver, which has imported papermill and nbconvert once: `evalkit.run.preload`), with a
    progress bar; yields (in completion order) each task's manifest entry with its council
    code."""
    bar = tqdm(total=len(tasks), desc="evalkit run", unit="notebook", file=sys.stderr)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=worker_context()) as pool:
            futures = {pool.submit(execute, t): t for t in tasks}
            for future in as_completed(futures):
                task = futures[future]
                bar.set_postfix_str(f"{task.la} {task.stem}")
                yield {"la": task.la, **future.result()}
                bar.update()
    finally:
        bar.close()


def clear_council_dir(path: Path) -> None:
    """Remove a previous run's outputs so no stale page is mistaken for this run's; refuse to
    delete a folder evalkit did not write."""
    if not path.exists():
        return
    if not (path / "manifest.json").is_file() and any(path.iterdir()):
        raise RunError(f"{path} exists and was not written by evalkit run (no manifest.json); "
                       "choose another --out or remove it")
    shutil.rmtree(path)


def main(args: argparse.Namespace) -> int:
    """Run the command; returns 0 when every notebook succeeded and passed the privacy gate."""
    started, t0 = now(), time.perf_counter()
    try:
        notebooks, params = check_options(args)  # fail fast, before the data are loaded
        start_forkserver()  # before the data load, so both proceed side by side (no-op
        # when `evalkit run` on the command line started it already)
        dataset = load_data(args.data_dir, args.date_order)
        las = councils(dataset, args.la)
        jobs = args.jobs or default_jobs(len(notebooks) * len(las), os.cpu_count(),
                                         table_bytes(dataset))
        p = Plan(args.data_dir.resolve(), args.out.resolve(), notebooks, las, params,
                 args.min_cell, jobs)
        for la in p.las:
            clear_council_dir(p.out / la)
    except RunError as err:
        print(f"evalkit run: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    for warning in dataset.warnings:
        print(f"evalkit run: warning: {warning}", file=sys.stderr)
    ids = privacy.identifiers({name: getattr(dataset, name, None) for name in privacy.ID_COLUMNS})
    sums = loader.checksums(dataset.files)
    data = record.describe_data(p, dataset, sums)
    by_la: dict[str, list[dict[str, Any]]] = {la: [] for la in p.las}
    with tempfile.TemporaryDirectory(prefix="evalkit-run-") as cache:
        loader.save_cache(dataset, p.data_dir, Path(cache), sums)
        del dataset  # each notebook loads its own copy; do not hold a national one meanwhile
        for entry in run_tasks(tasks_for(p, {loader.CACHE_ENV: cache}), p.jobs):
            record.gate(entry, p.out / entry["la"], ids, p.min_cell)  # while others run
            by_la[entry["la"]].append(entry)
    statuses = {}
    for la, entries in by_la.items():
        man = record.manifest(p, la, data, entries, ids, started, t0)
        record.write_json(p.out / la / "manifest.json", man)
        statuses[la] = man
    index = write_index(p.out)
    _summary(statuses, index)
    return 0 if all(m["status"] == SUCCEEDED for m in statuses.values()) else EXIT_FAILED


def _summary(statuses: Mapping[str, dict[str, Any]], index: Path) -> None:
    """Print each council's status, each failure's reason, and where the index page is."""
    for la, man in statuses.items():
        print(f"{council_label(la)}: {man['status']}")
        for nb in man["notebooks"]:
            line = f"  {nb['notebook']}: {nb['status']} ({nb['duration_s']:.1f} s)"
            print(line + (f" - {nb['error']}" if nb["error"] else ""))
    print(f"Index page: {index}")
