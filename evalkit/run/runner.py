"""`evalkit run`: validate a data folder, run the notebooks, render and gate the reports, publish.

    evalkit run DATA_DIR --out REPORT_DIR [--la CODE ...] [--notebooks 01,02,03]
                [--param key=value ...] [--params-file FILE.yaml] [--jobs N] [--min-cell N]
                [--notebook-dir DIR] [--wait] [--engine duckdb|spark]

Steps: start the forkserver that imports papermill and nbconvert once for the workers
(`evalkit.run.preload`); take REPORT_DIR's lock, or stop (exit 2) if another run holds it
(`evalkit.run.reportdir`); load and validate the data with `evalkit.load` (stop, exit 2, before
any notebook runs if it cannot be used, `evalkit.run.plan`, or if the privacy gate could not
check its identifiers) and cache the validated tables in a private temporary folder, removed at
the end, so each notebook's `evalkit.load` reuses them instead of validating again (the cache is
never inside REPORT_DIR, which is for publishing);
execute each notebook with papermill once per council, `--jobs` at a time, in worker processes
(`evalkit.run.pool`: in a standard kernel a notebook, or in a national run in the worker itself,
a council's notebooks one after another, cleared between notebooks; default jobs: all notebooks
of a council at once, at most cores + 1); render its HTML with code hidden in the same worker right
after it runs (`evalkit.run.execute`), the notebooks given the hashed identifiers so chart helpers
refuse identifier labels; once a council's notebooks have run, scan everything in its folder with
the privacy gate (`evalkit.sdc.gate`) and keep only the notebooks that succeeded and passed; write
per council its manifest.json (`evalkit.run.manifest`), redacted, and scan it too (a council whose
manifest has a finding is not published). All of it goes to REPORT_DIR/.staging-<run id>/; the
index page is scanned too; only then is the run published in one step, with the new
`index.html` (`evalkit.run.index`) as the commit (`evalkit.run.reportdir.publish`). SIGTERM or
SIGINT stops the run (`evalkit.run.stop`): workers and kernels are stopped, the staging folder
and the cache removed, nothing new published; exit 143 or 130. Exit 0 only when every notebook
succeeded and passed the gate. Once the data are loaded, every warning and notebook error the
run prints or writes goes through `evalkit.sdc.gate.message` (no identifier or person's row
reaches a log); the loader's own errors must quote no values (`evalkit.data.load`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, closing
from dataclasses import replace
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evalkit import __version__
from evalkit.analyses import comparators
from evalkit.data import load as loader
from evalkit.data.cld.engine import ENGINE_ENV, ENGINES
from evalkit.data.contract import pandera_pandas
from evalkit.paths import NOTEBOOK_DIR
from evalkit.run import councilcache, england, pool, reportdir, stop, summary
from evalkit.run import manifest as record
from evalkit.run.execute import SUCCEEDED, Task, now
from evalkit.run.index import council_label, index_page
from evalkit.run.plan import (
    Plan,
    RunError,
    check_options,
    councils,
    default_jobs,
    load_data,
    table_bytes,
    thread_limits,
)
from evalkit.run.pool import run_tasks
from evalkit.run.preload import national_run, start_forkserver
from evalkit.run.render import synthetic_notice
from evalkit.sdc import embedded, labels
from evalkit.sdc import gate as privacy

EXIT_FAILED, EXIT_UNUSABLE = 1, 2
#: Libraries with compiled parts that loading the data imports when it first needs them. They
#: are imported before SIGTERM and SIGINT become `stop.Stopped`: an exception raised while such a
#: library initialises can abort the whole process instead of stopping the run cleanly (DuckDB's
#: bindings do: "Critical nanobind error", exit -6, the staging folder and cache left behind).
NATIVE_LIBRARIES = ("duckdb", "pyarrow.parquet", "openpyxl")  # and pandera, imported quietly


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `evalkit run`."""
    parser.add_argument("data_dir", type=Path, help="data folder in the evalkit data contract")
    parser.add_argument("--out", type=Path, required=True, help="report folder to write")
    parser.add_argument("--la", nargs="+", action="extend", metavar="CODE",
                        help="council code(s); 'all' for all councils together; 'all-councils' "
                             "for every council in the data, each with its own reports (the "
                             "national data are read and reduced once, England and region "
                             "comparators added, and an England page, england.html, lists "
                             "them); default: the only council in the data, or all")
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
    parser.add_argument("--wait", action="store_true",
                        help="if another evalkit run is writing to REPORT_DIR, wait until it has "
                             "finished (default: stop at once, exit 2)")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb",
                        help="where raw CLD is reduced: duckdb (default, on this machine, "
                             "out-of-core) or spark (the SparkSession of the standard Spark "
                             "configuration: local, or a cluster via spark-defaults.conf)")


def tasks_for(p: Plan, staging: Path, environ: Mapping[str, str],
              notice: str | None = None) -> list[Task]:
    """One task per council per notebook, each writing into `staging`/<la>/<NN_name>/, its
    kernel given `environ`, its page and key findings the synthetic-data `notice` (if any)."""
    details = [f"Run on {dt.date.today().isoformat()} with evalkit {__version__} "
               f"(run {p.run_id})",
               f"Disclosure threshold: counts below {p.min_cell} are suppressed"]
    return [Task(la, nb, staging / la / nb.stem,
                 f"{summary.report_title(nb) or nb.stem} — {council_label(la)}", details,
                 {**p.params, "data_dir": str(p.data_dir), "la_code": la,
                  "results_path": "results.json",  # in the notebook's folder, where it runs
                  "min_cell": p.min_cell}, dict(environ), notice)
            for la in p.las for nb in p.notebooks]


def main(args: argparse.Namespace) -> int:
    """Run the command; returns 0 when every notebook succeeded and passed the privacy gate, 1
    when one did not, 2 when the run could not start, 128 + the signal number when stopped."""
    started, t0 = now(), time.perf_counter()
    run_id = reportdir.new_run_id(started)
    published: dict[str, Path] = {}
    pandera_pandas()  # first, without PySpark's warning about pandas 3 (see there)
    for name in NATIVE_LIBRARIES:
        importlib.import_module(name)
    with stop.on_signals():
        try:
            return _run(args, run_id, started, t0, published)
        except RunError as err:
            print(f"evalkit run: {err}", file=sys.stderr)
            return EXIT_UNUSABLE
        except stop.Stopped as stopped:
            done = (f"its reports were published before it stopped ({published['index']})"
                    if published else "nothing was published; REPORT_DIR is as it was before")
            print(f"evalkit run: stopped by {stopped}; {done}", file=sys.stderr)
            return stopped.exit_code


def _run(args: argparse.Namespace, run_id: str, started: str, t0: float,
         published: dict[str, Path]) -> int:
    """`main` once the signals are handled; enters the index page in `published` once the run
    is published."""
    notebooks, params = check_options(args)  # fail fast, before the data are loaded
    # before the data load, so both proceed side by side (no-op when `evalkit run` on the
    # command line started it already)
    start_forkserver(national=national_run(args.la or []))
    out = args.out.resolve()
    with stop.cleanups() as cleanups:
        cleanups.enter_context(reportdir.locked(out, args.wait))
        cleanups.callback(privacy.forget)
        dataset = load_data(args.data_dir, args.date_order, args.engine)
        las = councils(dataset, args.la)
        jobs = args.jobs or default_jobs(len(notebooks) * len(las), os.cpu_count(),
                                         table_bytes(dataset))
        p = Plan(args.data_dir.resolve(), out, notebooks, las, params, args.min_cell, jobs,
                 run_id)
        reportdir.check_councils(out, p.las)
        staging, cache = _workspace(p, cleanups)
        sums = loader.checksums(dataset.files)
        data = record.describe_data(p, dataset, sums)
        loader.save_cache(dataset, p.data_dir, cache, sums)
        # comparators: reduced once, from that cache, while the identifiers are worked out and
        # the council caches written
        comparing = _comparators(dataset, args, p, cache, cleanups)
        key = embedded.run_key(sums.values())  # the gate knows the charts style.show marks
        ids = replace(checkable_identifiers(dataset), chart_key=key)
        for warning in dataset.warnings:
            print(f"evalkit run: warning: {privacy.message(warning, ids)}", file=sys.stderr)
        own = councilcache.write(dataset, p.data_dir, cache, sums, p.las)
        own_jobs = args.jobs or default_jobs(len(own) * len(notebooks), os.cpu_count(),
                                             councilcache.table_bytes(dataset))
        del dataset  # each notebook loads its own copy; do not hold a national one meanwhile
        hashes = labels.write_id_hashes(ids, cache / "ids")
        table = england.finish_table(comparing, cache) if comparing else None
        environ = {loader.CACHE_ENV: str(cache),  # and the kernels' chart helpers refuse labels
                   labels.ID_HASHES_ENV: str(hashes),
                   embedded.CHART_KEY_ENV: key.hex(),
                   ENGINE_ENV: args.engine,  # a notebook missing the cache reduces there too
                   **thread_limits(max(own_jobs, p.jobs), os.cpu_count(), os.environ),
                   **({comparators.ENV: str(table)} if table else {})}
        notice = synthetic_notice(data["synthetic"])
        phases = _phases(tasks_for(p, staging, environ, notice), own, own_jobs, p.jobs)
        statuses = {}
        for la, entries in _execute(phases, p, ids, cleanups):  # while other councils run:
            record.gate(staging / la, entries, ids, p.min_cell)
            if (man := _manifest(p, la, entries, data, ids, (started, t0), staging)) is not None:
                statuses[la] = man
        statuses = {la: statuses[la] for la in p.las if la in statuses}
        pages = _england(table, cache, ids, p.min_cell, notice)
        page = england.with_link(index_page(reportdir.listed_after(out, run_id, statuses)), out,
                                 bool(pages))
        if findings := _scan_page(page, cache / reportdir.INDEX, ids, p.min_cell):
            print(f"evalkit run: the index page did not pass the privacy gate ({findings} "
                  "finding(s)); nothing was published", file=sys.stderr)
            return EXIT_FAILED
        with stop.held():
            reportdir.publish(out, run_id, list(statuses), page, pages)
            published["index"] = out / reportdir.INDEX
    _summary(statuses, published["index"])
    ok = len(statuses) == len(p.las) and all(m["status"] == SUCCEEDED for m in statuses.values())
    return 0 if ok else EXIT_FAILED


def _comparators(dataset: loader.Dataset, args: argparse.Namespace, p: Plan, cache: Path,
                 cleanups: ExitStack) -> BaseProcess | None:
    """The process working out the comparator table (`england.start_table`) when the data
    hold several councils, stopped if the run ends before it has."""
    if not england.has_councils(dataset):
        return None
    with stop.held():  # no process started but not yet stopped by `cleanups`
        worker = england.start_table(p.data_dir, args.date_order, args.engine, cache)
        cleanups.callback(pool.stop, [worker])
    return worker


def checkable_identifiers(dataset: loader.Dataset) -> privacy.Identifiers:
    """The input's identifiers for the privacy gate; RunError (naming the table and column,
    quoting no value) when some cannot be told apart from published figures, as nothing of
    such data could be vouched for."""
    ids = privacy.identifiers({name: getattr(dataset, name, None)
                               for name in privacy.ID_COLUMNS})
    if problems := ids.problems():
        raise RunError("the data cannot be published safely: the privacy gate cannot check "
                       "their identifiers:\n" + "\n".join(f"  {p}" for p in problems))
    return ids


def _manifest(p: Plan, la: str, entries: list[dict[str, Any]], data: dict[str, Any],
              ids: privacy.Identifiers, times: tuple[str, float], staging: Path
              ) -> dict[str, Any] | None:
    """Write a gated council's summary page (`evalkit.run.summary`) and manifest (redacted,
    its run's end the time its reports were done) and scan them; returns the manifest, or None
    when the council may not be published: one whose manifest still has a finding is withheld
    whole (its staging folder removed, a message on stderr)."""
    page = summary.publish(staging / la, la, entries, data, ids, p.min_cell)
    man = {**record.manifest(p, la, data, entries, ids, *times), "summary": page}
    if findings := record.publishable(staging / la / reportdir.MANIFEST, man, ids, p.min_cell):
        shutil.rmtree(staging / la)
        print(f"evalkit run: {council_label(la)}: its manifest did not pass the privacy gate "
              f"({len(findings)} finding(s), e.g. {findings[0].where}); nothing of this "
              "council was published", file=sys.stderr)
        return None
    return man


def _scan_page(page: str, path: Path, ids: privacy.Identifiers, min_cell: int) -> int:
    """Findings of the privacy gate in the index page (written to `path`, in the private cache
    folder, to be scanned)."""
    path.write_text(page, encoding="utf-8")
    return len(privacy.scan([path], ids, min_cell, path.parent))


def _phases(tasks: list[Task], own: dict[str, Path], own_jobs: int, jobs: int
            ) -> list[tuple[list[Task], int]]:
    """The tasks in two phases: first the notebooks that load their council's own cache
    (`evalkit.run.councilcache`), `own_jobs` at a time, largest councils first (so that a run
    of every council does not end with a county's notebooks running alone while the other
    cores wait), then those loading the national data, `jobs` at a time (as many as fit in
    memory)."""
    national = Path(tasks[0].environ[loader.CACHE_ENV]) if tasks else Path()
    light, heavy = [], []
    for task in tasks:
        folder = councilcache.cache_for(task.la, task.stem, task.parameters, own, national)
        (light if folder != national else heavy).append(
            replace(task, environ={**task.environ, loader.CACHE_ENV: str(folder)}))
    size = {la: councilcache.size(folder) for la, folder in own.items()}
    light.sort(key=lambda task: -size.get(task.la, 0))  # stable: a council's notebooks in order
    return [(group, n) for group, n in ((light, own_jobs), (heavy, jobs)) if group]


def _in_phases(phases: list[tuple[list[Task], int]]
               ) -> Iterator[tuple[Task, dict[str, Any]]]:
    """`run_tasks` of each phase in turn (closing this closes the phase running)."""
    for tasks, jobs in phases:
        yield from run_tasks(tasks, jobs)


def _execute(phases: list[tuple[list[Task], int]], p: Plan, ids: privacy.Identifiers,
             cleanups: ExitStack) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Run the tasks with a progress bar; yields each council and its manifest entries once its
    last notebook is in (the caller gates it while the others run). The workers are stopped (if
    any still runs) before the other `cleanups` (staging folder, cache, lock) are."""
    tasks = [task for group, _ in phases for task in group]
    bar = cleanups.enter_context(tqdm(total=len(tasks), desc="evalkit run", unit="notebook",
                                      file=sys.stderr))
    results = cleanups.enter_context(closing(_in_phases(phases)))
    by_la: dict[str, list[dict[str, Any]]] = {la: [] for la in p.las}
    waiting = Counter(task.la for task in tasks)
    for task, entry in results:
        bar.set_postfix_str(privacy.redact(f"{task.la} {task.stem}", ids))
        bar.update()
        by_la[task.la].append({"la": task.la, **entry})
        waiting[task.la] -= 1
        if not waiting[task.la]:
            yield task.la, by_la[task.la]


def _england(table: Path | None, cache: Path, ids: privacy.Identifiers, min_cell: int,
             notice: str | None) -> list[Path]:
    """The England page and its CSV (in `cache`) when the run reduced national data, with the
    synthetic-data `notice` if any, if they pass the privacy gate; else none, with a message."""
    if table is None:
        return []
    made = england.write(table, cache, min_cell, notice)
    if findings := privacy.scan(made, ids, min_cell, cache):
        print(f"evalkit run: the England page did not pass the privacy gate ({len(findings)} "
              "finding(s)); it was not published", file=sys.stderr)
        return []
    return made


def _workspace(p: Plan, cleanups: ExitStack) -> tuple[Path, Path]:
    """The run's staging folder in REPORT_DIR and its private cache folder outside it, each
    removed when the run ends (the staging folder is gone by then if the run was published);
    what a killed run left in REPORT_DIR is removed first."""
    with stop.held():
        reportdir.clear_stale(p.out)
        staging = reportdir.staging_dir(p.out, p.run_id)
        staging.mkdir()
        cleanups.callback(shutil.rmtree, staging, ignore_errors=True)
        cache = reportdir.new_cache(p.out)
        cleanups.callback(shutil.rmtree, cache, ignore_errors=True)
    return staging, cache


def _summary(statuses: Mapping[str, dict[str, Any]], index: Path) -> None:
    """Print each council's status, each failure's reason, and where the index page is."""
    for la, man in statuses.items():
        print(f"{council_label(la)}: {man['status']}")
        for nb in man["notebooks"]:
            line = f"  {nb['notebook']}: {nb['status']} ({nb['duration_s']:.1f} s)"
            print(line + (f" - {nb['error']}" if nb["error"] else ""))
    print(f"Index page: {index}")
