"""`evalkit run`: validate a data folder, run the notebooks, render and gate the reports.

    evalkit run DATA_DIR --out REPORT_DIR [--la CODE ...] [--notebooks 01,02,03]
                [--param key=value ...] [--params-file FILE.yaml] [--jobs N] [--min-cell N]
                [--notebook-dir DIR]

Steps: start the forkserver that imports the libraries once (`evalkit.run.preload`) while
this process loads and validates the data with `evalkit.load` (stop, exit 2, before any notebook
runs if it cannot be used) and caches the validated tables in a private temporary folder,
removed at the end, so each notebook's `evalkit.load` reuses them instead of validating again
(the cache is never inside REPORT_DIR, which is for publishing); execute each notebook with
papermill once per council, `--jobs` at a time, each in its own worker (on Linux a fork of the
forkserver, and its kernel a fork of the worker: `evalkit.run.kernel`; default jobs: all
notebooks of a council at once, at most cores + 1); render its HTML with code hidden in the
same worker right after it runs; run the privacy gate (`evalkit.sdc.gate`) on each
notebook as it finishes; write per council `REPORT_DIR/<la_code>/manifest.json` and each
notebook's outputs under `REPORT_DIR/<la_code>/<NN_name>/`; write `REPORT_DIR/index.html`.
Exit 0 only when every notebook succeeded and passed the gate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from tqdm import tqdm

from evalkit import __version__
from evalkit.data import load as loader
from evalkit.paths import NOTEBOOK_DIR
from evalkit.run import render
from evalkit.run.preload import start_forkserver, worker_context
from evalkit.sdc import gate as privacy

render.skip_slow_optional_imports()  # before papermill is imported here or in a worker

SUCCEEDED = "succeeded"
FAILED = "failed"
BLOCKED = "blocked by privacy gate"
RESERVED = ("data_dir", "la_code", "results_path", "min_cell")
LIBRARIES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "pandera", "pyarrow",
             "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel", "jupyter_client")
NOTEBOOK_NAME = re.compile(r"^(\d\d)_\w+\.ipynb$")
LA_PATTERN = re.compile(r"^(all|[A-Za-z0-9]+)$")
EXIT_FAILED, EXIT_UNUSABLE = 1, 2
#: Default --jobs keeps the estimated peak memory of the whole run under this (issue 8's target).
MEMORY_BUDGET = 4 * 2**30
#: A notebook's estimated peak: a kernel with the libraries imported, plus twice the validated
#: tables (its copy and what the analysis derives; measured: 2.1 GiB for 0.9 GiB national data).
KERNEL_BASE, TABLE_FACTOR = 400 * 2**20, 2
#: Kernel options: log only critical messages, so the runner's output is not filled with ipykernel's
#: "Kernel is running over TCP without encryption" warning (the kernel listens on localhost only)
#: or the "KeyboardInterrupt caught" that jupyter_client's interrupt-then-shutdown can cause; cell
#: errors still reach the notebook and a dead kernel still fails it.
QUIET_KERNEL = ["--IPKernelApp.log_level=CRITICAL"]


class RunError(Exception):
    """The run cannot start: bad options or unusable data. The message says what to fix."""


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
    parser.add_argument("--min-cell", type=int, default=5, metavar="N",
                        help="disclosure threshold: counts 1..N-1 are suppressed (default 5)")
    parser.add_argument("--notebook-dir", type=Path, default=NOTEBOOK_DIR, metavar="DIR",
                        help=f"folder holding NN_name.ipynb notebooks (default {NOTEBOOK_DIR})")


# ---------------------------------------------------------------- options and inputs


def parse_params(pairs: Iterable[str], params_file: Path | None) -> dict[str, Any]:
    """Notebook parameters from a YAML file then `key=value` pairs (values typed by YAML)."""
    params: dict[str, Any] = {}
    if params_file is not None:
        if not params_file.is_file():
            raise RunError(f"--params-file: no such file {params_file}")
        loaded = yaml.safe_load(params_file.read_text()) or {}
        if not isinstance(loaded, dict):
            raise RunError(f"--params-file: {params_file} must hold a YAML mapping of parameter "
                           f"names to values, not a {type(loaded).__name__}")
        params.update({str(k): v for k, v in loaded.items()})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().isidentifier():
            raise RunError(f"--param: expected KEY=VALUE with KEY a Python name, not {pair!r}")
        params[key.strip()] = yaml.safe_load(value) if value.strip() else None
    clash = sorted(set(params) & set(RESERVED))
    if clash:
        raise RunError(f"parameters {clash} are set by evalkit run itself; use DATA_DIR, --la and "
                       "--min-cell instead (results_path is always beside the notebook)")
    return params


def discover(notebook_dir: Path, wanted: str | None) -> list[Path]:
    """`NN_name.ipynb` notebooks in `notebook_dir`, in order, filtered by `--notebooks`."""
    found = sorted(p for p in notebook_dir.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))
    if not found:
        raise RunError(f"no notebooks named NN_name.ipynb in {notebook_dir}")
    if wanted is None:
        return found
    numbers = [w.strip() for w in wanted.split(",") if w.strip()]
    by_number = {p.name[:2]: p for p in found}
    unknown = [n for n in numbers if n.zfill(2) not in by_number]
    if unknown:
        raise RunError(f"--notebooks: no notebook numbered {unknown} in {notebook_dir}; "
                       f"found {sorted(by_number)}")
    return [by_number[n.zfill(2)] for n in dict.fromkeys(numbers)]


def load_data(data_dir: Path) -> Any:
    """The validated Dataset, or RunError with the validation message."""
    from evalkit.data.load import ContractError, load

    if not data_dir.is_dir():
        raise RunError(f"DATA_DIR {data_dir} is not a folder")
    try:
        dataset = load(data_dir)
    except ContractError as err:
        raise RunError(f"the data in {data_dir} cannot be used:\n{err}") from err
    if dataset.support_episodes is None:
        raise RunError(f"the data in {data_dir} cannot be used: there is no support_episodes "
                       "table, which every notebook needs")
    return dataset


def councils(dataset: Any, requested: list[str] | None) -> list[str]:
    """Council codes to run: those asked for (each must be in the data, or 'all'), else the only
    council in the data, else 'all'."""
    present = sorted(dataset.support_episodes["la_code"].dropna().astype(str).unique())
    if not requested:
        return present if len(present) == 1 else ["all"]
    bad = [c for c in requested if not LA_PATTERN.match(c)]
    missing = [c for c in requested if c != "all" and c not in present]
    if bad or missing:
        shown = ", ".join(present[:20]) + (" ..." if len(present) > 20 else "")
        raise RunError(f"--la: {bad + missing} not in the data's support_episodes.la_code; "
                       f"councils present: {shown}, or 'all'")
    return list(dict.fromkeys(requested))


def input_files(files: Mapping[str, Iterable[Path]], data_dir: Path,
                sums: Mapping[str, str]) -> list[dict[str, Any]]:
    """One entry per file the loader read: table, path (relative to DATA_DIR), bytes, sha256
    (from `sums`, path -> checksum, computed once for this and the load cache)."""
    out = []
    for table, paths in sorted(files.items()):
        for path in sorted(Path(p) for p in paths):
            rel = path.resolve().relative_to(data_dir.resolve())
            out.append({"table": table, "path": rel.as_posix(), "bytes": path.stat().st_size,
                        "sha256": sums[str(path)]})
    return out


def row_counts(quality: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Rows read, kept and excluded per table (with the reasons) from `dataset.quality`."""
    out: dict[str, dict[str, Any]] = {}
    for table, part in quality.groupby("table", sort=True):
        by_reason = part.groupby("reason")["rows"].sum()
        kept = int(by_reason.get("kept", 0))
        read = int(by_reason.sum())
        out[str(table)] = {"read": read, "kept": kept, "excluded": read - kept,
                           "excluded_by_reason": {str(k): int(v) for k, v in by_reason.items()
                                                  if k != "kept"}}
    return out


def data_period(episodes: pd.DataFrame, la: str) -> dict[str, str | None]:
    """First and last date in the council's support episodes (start or end dates)."""
    rows = episodes if la == "all" else episodes[episodes["la_code"].astype(str) == la]
    dates = pd.concat([rows["start_date"], rows["end_date"]]).dropna()
    if dates.empty:
        return {"start": None, "end": None}
    return {"start": dates.min().date().isoformat(), "end": dates.max().date().isoformat()}


def versions() -> dict[str, str | None]:
    """Python, evalkit and key library versions."""
    found: dict[str, str | None] = {"python": platform.python_version(), "evalkit": __version__}
    for lib in LIBRARIES:
        try:
            found[lib] = version(lib)
        except PackageNotFoundError:
            found[lib] = None
    return found


def now() -> str:
    """Current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- executing one notebook


@dataclass(frozen=True)
class Task:
    """One notebook for one council."""

    la: str
    notebook: Path
    out_dir: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)  # for the kernel, e.g. the load cache

    @property
    def stem(self) -> str:
        return self.notebook.stem


def kernel_name(notebook: Path) -> str:
    """The kernel the notebook declares, or python3."""
    meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    return meta.get("kernelspec", {}).get("name") or "python3"


def kernel_options(kernel: str) -> list[str]:
    """QUIET_KERNEL for ipykernel kernels; nothing for others, which may not understand it."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except NoSuchKernel:
        return []  # papermill reports the missing kernel
    return QUIET_KERNEL if any("ipykernel" in a for a in argv) else []


def execute(task: Task) -> dict[str, Any]:
    """Run one notebook with papermill and render its page; returns its manifest entry.

    A notebook that raises is recorded as failed with its error (the executed notebook and a
    `.FAILED.html` page are kept for diagnosis); a notebook that finishes without writing
    results.json has broken the notebook contract and is failed too. A kernel that dies leaves
    no executed notebook (papermill saves it only at the end or on a cell error), only the error.
    """
    import papermill as pm

    from evalkit.run.kernel import ForkedKernelManager

    task.out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(task.environ)  # this worker process is the run's; the kernel inherits it
    executed = task.out_dir / f"{task.stem}.ipynb"
    results = task.out_dir / "results.json"
    kernel = kernel_name(task.notebook)
    entry: dict[str, Any] = {"notebook": task.stem, "source": str(task.notebook.resolve()),
                             "kernel": kernel, "started_at": now(), "error": None, "warnings": []}
    t0 = time.perf_counter()
    try:
        # request_save_on_cell_execute=False: papermill would otherwise rewrite (and validate)
        # the whole notebook, images included, before and after every cell (about 5 s of CPU a
        # notebook); it still writes it at the end, and on a cell error before raising
        pm.execute_notebook(task.notebook, executed, parameters=task.parameters,
                            kernel_name=kernel, cwd=str(task.out_dir), progress_bar=False,
                            request_save_on_cell_execute=False,
                            # every cell has run and its output arrived: a graceful shutdown
                            # would only wait ~0.3 s for exit handlers with nothing to save (the
                            # kernel's exit handlers do not run: a notebook must close what it
                            # opens, e.g. a TemporaryDirectory, in its own cells)
                            shutdown_kernel="immediate",
                            extra_arguments=kernel_options(kernel),
                            kernel_manager_class=ForkedKernelManager)
        if not results.is_file():
            raise RuntimeError(f"the notebook finished but wrote no results.json at {results}; "
                               "it must call evalkit.report.record.record(..., path=results_path)")
        entry["status"] = SUCCEEDED
    except pm.PapermillExecutionError as err:
        entry["status"] = FAILED
        entry["error"] = f"cell {err.exec_count}: {err.ename}: {err.evalue}"
    except Exception as err:  # kernel death, missing kernel, broken notebook: record, not crash
        entry["status"] = FAILED
        entry["error"] = f"{type(err).__name__}: {err}"
    entry["execute_s"] = round(time.perf_counter() - t0, 3)
    t1 = time.perf_counter()
    entry["outputs"] = _render(task, executed, entry)
    entry["render_s"] = round(time.perf_counter() - t1, 3)
    entry["finished_at"] = now()
    entry["duration_s"] = round(time.perf_counter() - t0, 3)
    return entry


def _render(task: Task, executed: Path, entry: dict[str, Any]) -> dict[str, str | None]:
    """Render the executed notebook (if there is one); output paths relative to the council
    folder, None for files that were not written."""
    ok = entry["status"] == SUCCEEDED
    page = task.out_dir / (f"{task.stem}.html" if ok else f"{task.stem}.FAILED.html")
    council = task.out_dir.parent
    outputs: dict[str, str | None] = {"notebook": None, "html": None, "results": None,
                                      "key_findings": None}
    if executed.is_file():
        outputs["notebook"] = executed.relative_to(council).as_posix()
        banner = None if ok else f"The notebook did not finish ({entry['error']}). This output " \
                                 "is kept only so the problem can be diagnosed."
        try:
            entry["warnings"] += render.render(executed, page, title=_title(task),
                                               details=_details(task), banner=banner)
            outputs["html"] = page.relative_to(council).as_posix()
        except Exception as err:  # a page that cannot be rendered fails the notebook
            entry["status"] = FAILED
            entry["error"] = entry["error"] or f"rendering failed: {type(err).__name__}: {err}"
    for key, name in (("results", "results.json"), ("key_findings", "key_findings.md")):
        if (task.out_dir / name).is_file():
            outputs[key] = (task.out_dir / name).relative_to(council).as_posix()
    return outputs


def _title(task: Task) -> str:
    return f"{task.stem} — {council_label(task.la)}"


def _details(task: Task) -> list[str]:
    return [f"Run on {dt.date.today().isoformat()} with evalkit {__version__}",
            f"Disclosure threshold: counts below {task.parameters['min_cell']} are suppressed"]


def council_label(la: str) -> str:
    """A council's name and code for the index page ("Leicester (E06000016)")."""
    from evalkit.data.councils import place_name

    if la == "all":
        return "All councils"
    name = place_name(la)
    return f"{name} ({la})" if name != la else la


def run_tasks(tasks: list[Task], jobs: int) -> Iterator[dict[str, Any]]:
    """Execute tasks, `jobs` at a time, each in a worker process (on Linux a fork of the
    forkserver, which has imported this module, papermill and what the notebooks and their
    kernels need once: `evalkit.run.preload`), with a progress bar; yields (in completion
    order) each task's manifest entry with its council code."""
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


# ---------------------------------------------------------------- gate, manifest, index


def clear_council_dir(path: Path) -> None:
    """Remove a previous run's outputs so no stale page is mistaken for this run's; refuse to
    delete a folder evalkit did not write."""
    if not path.exists():
        return
    if not (path / "manifest.json").is_file() and any(path.iterdir()):
        raise RunError(f"{path} exists and was not written by evalkit run (no manifest.json); "
                       "choose another --out or remove it")
    shutil.rmtree(path)


def gate(entry: dict[str, Any], council: Path, ids: privacy.Identifiers, min_cell: int) -> None:
    """Scan a notebook's published files; block it if anything is found (rename the page to
    `.BLOCKED.html` with a banner so it is never mistaken for a finished report)."""
    files = [council / p for k, p in entry["outputs"].items() if p and k != "notebook"]
    findings = privacy.scan(files, ids, min_cell, council)
    entry["privacy"] = [f.as_dict() for f in findings]
    if not findings:
        return
    if entry["status"] == SUCCEEDED:
        entry["status"] = BLOCKED
        entry["error"] = (f"privacy gate: {len(findings)} finding(s), e.g. "
                          f"{findings[0].file}: {findings[0].where}")
    page = entry["outputs"]["html"]
    if page and not page.endswith(".BLOCKED.html"):
        blocked = council / re.sub(r"(\.FAILED)?\.html$", ".BLOCKED.html", page)
        (council / page).rename(blocked)
        render.add_banner(blocked, "The privacy gate found identifiers or small counts in this "
                                   "output; it must not be published.")
        entry["outputs"]["html"] = blocked.relative_to(council).as_posix()


def overall(entries: list[dict[str, Any]]) -> str:
    """A council's status: succeeded, blocked by privacy gate (if any was), else failed."""
    statuses = {e["status"] for e in entries}
    if statuses == {SUCCEEDED}:
        return SUCCEEDED
    return BLOCKED if BLOCKED in statuses else FAILED


def write_json(path: Path, obj: Any) -> None:
    """Indented, key-sorted JSON (stable diffs between runs)."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_index(out: Path) -> Path:
    """`REPORT_DIR/index.html` listing every council's manifest found in REPORT_DIR (all councils
    first, then by code), with relative links; only succeeded notebooks are linked as reports."""
    rows = []
    for path in sorted(out.glob("*/manifest.json"), key=lambda m: (m.parent.name != "all",
                                                                     m.parent.name)):
        man = json.loads(path.read_text())
        la = path.parent.name
        period = man.get("data", {}).get("period", {})
        links = []
        for nb in man.get("notebooks", []):
            page = nb.get("outputs", {}).get("html")
            name = html.escape(nb["notebook"])
            status = html.escape(nb["status"])
            if nb["status"] == SUCCEEDED and page:
                links.append(f'<li><a href="{html.escape(f"{la}/{page}")}">{name}</a></li>')
            elif nb["status"] == FAILED and page:
                links.append(f'<li>{name}: <strong>{status}</strong> (<a href="'
                             f'{html.escape(f"{la}/{page}")}">diagnostic output</a>)</li>')
            else:
                links.append(f"<li>{name}: <strong>{status}</strong></li>")
        rows.append(
            f"<tr><th scope=\"row\">{html.escape(council_label(la))}</th>"
            f"<td>{html.escape(man['run']['started_at'][:10])}</td>"
            f"<td>{period.get('start') or '?'} to {period.get('end') or '?'}</td>"
            f"<td>{html.escape(man['status'])}</td>"
            f"<td><ul>{''.join(links)}</ul></td>"
            f'<td><a href="{html.escape(la)}/manifest.json">manifest</a></td></tr>')
    page = out / "index.html"
    page.write_text(INDEX.format(css=render.CSS.read_text(), rows="\n".join(rows)),
                    encoding="utf-8")
    return page


INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>evalkit reports</title>
<style>{css}</style>
</head>
<body>
<a class="evalkit-skip" href="#content">Skip to content</a>
<main id="content">
<h1>Direct Payments: reports by council</h1>
<p>Only reports whose status is <strong>succeeded</strong> are finished and may be shared.
Failed or blocked runs are listed so the problem can be fixed; they are not reports.</p>
<table>
<caption>Reports by council, with the date of the run and the period the data cover</caption>
<thead><tr><th scope="col">Council</th><th scope="col">Run date</th><th scope="col">Data period</th>
<th scope="col">Status</th><th scope="col">Reports</th><th scope="col">Details</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</main>
</body>
</html>
"""


# ---------------------------------------------------------------- the command


@dataclass
class Plan:
    """Everything decided before any notebook runs."""

    data_dir: Path
    out: Path
    notebooks: list[Path]
    las: list[str]
    params: dict[str, Any]
    min_cell: int
    jobs: int


def default_jobs(tasks: int, cpus: int | None, table_bytes: int) -> int:
    """Notebooks to run at once when --jobs is not given: all of them, at most cores + 1 (a
    kernel that is starting or importing leaves a core idle part of the time), and no more than
    fit in MEMORY_BUDGET beside the runner when each holds its own copy of the tables."""
    per_notebook = KERNEL_BASE + TABLE_FACTOR * table_bytes
    fit = (MEMORY_BUDGET - KERNEL_BASE) // per_notebook
    return max(1, min(tasks, (cpus or 1) + 1, fit))


def table_bytes(dataset: Any) -> int:
    """Memory held by the validated tables."""
    frames = [getattr(dataset, name) for name in loader.TABLES]
    return int(sum(df.memory_usage(deep=True).sum() for df in frames if df is not None))


def check_options(args: argparse.Namespace) -> tuple[list[Path], dict[str, Any]]:
    """Options that need no data: the notebooks to run and the extra parameters."""
    if args.jobs is not None and args.jobs < 1:
        raise RunError(f"--jobs must be 1 or more, not {args.jobs}")
    if args.min_cell < 1:
        raise RunError(f"--min-cell must be 1 or more, not {args.min_cell}")
    return discover(args.notebook_dir, args.notebooks), parse_params(args.param, args.params_file)


def tasks_for(p: Plan, environ: Mapping[str, str]) -> list[Task]:
    """One task per council per notebook, each writing into REPORT_DIR/<la>/<NN_name>/, its
    kernel given `environ`."""
    return [Task(la, nb, p.out / la / nb.stem,
                 {**p.params, "data_dir": str(p.data_dir), "la_code": la,
                  "results_path": str(p.out / la / nb.stem / "results.json"),
                  "min_cell": p.min_cell}, dict(environ))
            for la in p.las for nb in p.notebooks]


def describe_data(p: Plan, dataset: Any, sums: Mapping[str, str]) -> dict[str, Any]:
    """What the manifest says about the input (per council: "period"), taken before the
    notebooks run so the runner need not hold the tables while they do."""
    return {"data_dir": str(p.data_dir), "extract_date": dataset.extract_date.date(),
            "periods": {la: data_period(dataset.support_episodes, la) for la in p.las},
            "inputs": input_files(dataset.files, p.data_dir, sums),
            "rows": row_counts(dataset.quality), "warnings": list(dataset.warnings)}


def manifest(p: Plan, la: str, data: dict[str, Any], entries: list[dict[str, Any]],
             ids: privacy.Identifiers, started: str, t0: float) -> dict[str, Any]:
    """The council's manifest.json content (fields documented in README "Scheduled runs")."""
    order = {nb.stem: i for i, nb in enumerate(p.notebooks)}
    entries = sorted(entries, key=lambda e: order[e["notebook"]])
    return {
        "evalkit_version": __version__,
        "status": overall(entries),
        "la_code": la,
        "parameters": {**p.params, "data_dir": str(p.data_dir), "la_code": la,
                       "min_cell": p.min_cell},
        "run": {"started_at": started, "finished_at": now(),
                "duration_s": round(time.perf_counter() - t0, 3), "jobs": p.jobs,
                "argv": sys.argv[1:],
                "machine": {"platform": platform.platform(), "processor": platform.machine(),
                            "cpus": os.cpu_count()}},
        "versions": versions(),
        "data": {**{k: v for k, v in data.items() if k != "periods"},
                 "period": data["periods"][la]},
        "privacy_gate": {"min_cell": p.min_cell,
                         "identifiers_scanned": sum(len(v) for v in ids.values.values()),
                         "identifiers_not_scanned": ids.not_scanned},
        "notebooks": [{k: v for k, v in e.items() if k != "la"} for e in entries],
    }


def main(args: argparse.Namespace) -> int:
    """Run the command; returns 0 when every notebook succeeded and passed the privacy gate."""
    started, t0 = now(), time.perf_counter()
    try:
        notebooks, params = check_options(args)  # fail fast, before the data are loaded
        start_forkserver()  # before the data load, so both proceed side by side (no-op
        # when `evalkit run` on the command line started it already)
        dataset = load_data(args.data_dir)
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
    data = describe_data(p, dataset, sums)
    by_la: dict[str, list[dict[str, Any]]] = {la: [] for la in p.las}
    with tempfile.TemporaryDirectory(prefix="evalkit-run-") as cache:
        loader.save_cache(dataset, p.data_dir, Path(cache), sums)
        del dataset  # each notebook loads its own copy; do not hold a national one meanwhile
        for entry in run_tasks(tasks_for(p, {loader.CACHE_ENV: cache}), p.jobs):
            gate(entry, p.out / entry["la"], ids, p.min_cell)  # while other notebooks run
            by_la[entry["la"]].append(entry)
    statuses = {}
    for la, entries in by_la.items():
        man = manifest(p, la, data, entries, ids, started, t0)
        write_json(p.out / la / "manifest.json", man)
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
