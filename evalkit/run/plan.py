"""What `evalkit run` decides before any notebook runs: the notebooks, the parameters, the
councils and how many notebooks run at once; RunError when the options or the data cannot be
used (the message says what to fix)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evalkit import cohorts
from evalkit.data import load as loader
from evalkit.data.cld.engine import chosen
from evalkit.data.contract import TABLES
from evalkit.run import EACH_COUNCIL

RESERVED = ("data_dir", "la_code", "results_path", "min_cell")
NOTEBOOK_NAME = re.compile(r"^(\d\d)_\w+\.ipynb$")
LA_PATTERN = re.compile(r"^(all|all-councils|[A-Za-z0-9]+)$")
#: Default --jobs keeps the estimated peak memory of the whole run under this (issue 8's target).
MEMORY_BUDGET = 4 * 2**30
#: A notebook's estimated peak: a kernel (or a national run's worker) with the libraries
#: imported, plus twice the validated
#: tables (its copy and what the analysis derives; measured: 2.1 GiB for 0.9 GiB national data).
KERNEL_BASE, TABLE_FACTOR = 400 * 2**20, 2
#: Thread pools of the numerical libraries (OpenBLAS, OpenMP, MKL; Arrow reads OMP_NUM_THREADS)
#: in a kernel of a run that has a notebook for every core: one thread each, as the other cores
#: are busy with other notebooks (threads waiting for a busy core spin): six councils' analyses
#: in one process took 0.92 of the CPU time, twelve councils' run 0.89 (docs/national.md).
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class RunError(Exception):
    """The run cannot start: bad options or unusable data. The message says what to fix."""


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
    run_id: str  # names the run's folders (`evalkit.run.reportdir`) and is in its manifests


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


def check_options(args: argparse.Namespace) -> tuple[list[Path], dict[str, Any]]:
    """Options that need no data: the notebooks to run and the extra parameters."""
    if args.jobs is not None and args.jobs < 1:
        raise RunError(f"--jobs must be 1 or more, not {args.jobs}")
    if args.min_cell < 1:
        raise RunError(f"--min-cell must be 1 or more, not {args.min_cell}")
    return discover(args.notebook_dir, args.notebooks), parse_params(args.param, args.params_file)


def load_data(data_dir: Path, date_order: str | None = None,
              engine: str | None = None) -> loader.Dataset:
    """The validated Dataset, or RunError with the validation message. `date_order` ("dmy",
    "mdy" or None) is how dates written with the day and month as numbers are read; `engine`
    (duckdb, spark; None: EVALKIT_CLD_ENGINE or duckdb) where raw CLD is reduced."""
    if not data_dir.is_dir():
        raise RunError(f"DATA_DIR {data_dir} is not a folder")
    try:
        with chosen(engine):
            dataset = loader.load(data_dir, date_order=date_order)
    except loader.ContractError as err:
        raise RunError(f"the data in {data_dir} cannot be used:\n{err}") from err
    if dataset.support_episodes is None:
        raise RunError(f"the data in {data_dir} cannot be used: there is no support_episodes "
                       "table, which every notebook needs")
    return dataset


def councils(dataset: loader.Dataset, requested: list[str] | None) -> list[str]:
    """Council codes to run, each chosen as the notebooks choose it (`cohorts.council`): those
    asked for (each must be in the data, or 'all'; 'all-councils' is every council in the
    data, one by one), else the only council in the data, else 'all'."""
    episodes = dataset.support_episodes
    bad = [c for c in requested or [] if not LA_PATTERN.match(c)]
    if bad:
        raise RunError(f"--la: {bad} are not council codes (letters and digits, e.g. E06000016), "
                       f"'all' or '{EACH_COUNCIL}'")
    every: list[str] = []  # every council in the data: each is there, as `cohorts.council` asks
    if requested and EACH_COUNCIL in requested and "la_code" in episodes:
        every = sorted(episodes["la_code"].dropna().astype(str).unique())
        requested = [c for c in requested if c != EACH_COUNCIL]
    try:
        chosen = [cohorts.council(episodes, c, where="--la")
                  for c in requested or ([] if every else [None])]
    except ValueError as err:
        raise RunError(str(err)) from err
    return list(dict.fromkeys([*chosen, *every]))


def default_jobs(tasks: int, cpus: int | None, table_bytes: int) -> int:
    """Notebooks to run at once when --jobs is not given: all of them, at most cores + 1 (a
    kernel that is starting or importing leaves a core idle part of the time), and no more than
    fit in MEMORY_BUDGET beside the runner when each holds its own copy of the tables."""
    per_notebook = KERNEL_BASE + TABLE_FACTOR * table_bytes
    fit = (MEMORY_BUDGET - KERNEL_BASE) // per_notebook
    return max(1, min(tasks, (cpus or 1) + 1, fit))


def thread_limits(jobs: int, cpus: int | None, environ: Mapping[str, str]
                  ) -> dict[str, str]:
    """ONE_THREAD set to 1 for the kernels when `jobs` notebooks at once fill the `cpus`
    cores; a limit the user set in `environ` is kept (left out here, so it is inherited)."""
    if jobs < (cpus or 1):
        return {}
    return {name: "1" for name in ONE_THREAD if name not in environ}


def table_bytes(dataset: loader.Dataset) -> int:
    """Memory held by the validated tables."""
    frames = [getattr(dataset, name) for name in TABLES]
    return int(sum(df.memory_usage(deep=True).sum() for df in frames if df is not None))
