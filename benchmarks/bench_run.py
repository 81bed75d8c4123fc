"""Wall time and peak memory of `evalkit run` for one council and for national data.

Cases: the Leicester profile (one council, scale 1, ~10k people on long-term support) and the
England profile with `--la all` (all councils together, ~1.5M people). Each run is a separate
`python -m evalkit.cli run` process; its whole process tree (runner, forkserver, workers and
notebook kernels) is sampled for memory every five seconds (proportional set size, so pages
the forked processes share count once; reading it costs the kernel a few milliseconds a
process), so the peak is the sum over processes running at
once, and the largest single process is reported too (from `os.wait4`); its CPU time (sampled
ten times a second, which costs little) is the sum over every process seen in the tree (kernels
are not all children the runner waits for, so `os.wait4` alone would miss them), and the
sampling's own CPU time is printed beside it. CPU time is the fair measure on a shared
machine: the load average is printed with each case. Per notebook, the manifest and the
executed notebook's papermill cell timings split the time into kernel start-up (a standard
ipykernel, started by the worker's papermill as a new process), the first
code cell after the parameters (imports and `evalkit.load`), the analysis cells (models, tables,
charts) and rendering (nbconvert HTML, contents, privacy gate). Targets (issue 8, 2-core machine):
council < 20 s wall for all notebooks; national < 2 min and < 4 GiB peak. With `--plain`, the
council case is also run the way a council would without `evalkit run`: the papermill command
line on the three notebooks side by side, each followed by `jupyter nbconvert --to html
--no-input` (issue 13 compares the two).

With `--councils N`, also the England profile's first N councils, each with its own reports
(`--la` with their codes; 0 for `--la all-councils`): the national run's wall time, CPU by
process kind and per-notebook medians. Run it from two clones (or with PYTHONPATH naming each)
to compare two commits on the same machine, back to back.

    .venv/bin/python benchmarks/bench_run.py [--work DIR] [--jobs N] [--quick] [--plain]
                                             [--councils N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
from bench_data import machine

from evalkit.paths import NOTEBOOK_DIR
from evalkit.synth.generator import synthesise

CASES = {  # name -> (profile, scale, extra run arguments)
    "council (leicester)": ("leicester", 1.0, ["--la", "E06000016"]),
    "national (england, all)": ("england", 1.0, ["--la", "all"]),
}
QUICK_SCALE = 0.1
#: The process tree's CPU times are sampled every CPU_EVERY_S seconds, its memory every
#: MEMORY_EVERY-th sample: reading a process's proportional set size walks its page tables
#: (about 4 ms for a 700 MB process): ten times a second, the sampling of 24 councils' run took
#: 31 s of CPU in 174 s (a tenth of the 2-core machine the run was measured on); once a second,
#: 8.5 s; every five seconds, 23 s of a 740-s run of every council (the CPU times' share is
#: most of that: a sample took 1.9 ms, 0.35 ms since the tree is listed once a second,
#: `FIND_EVERY`).
CPU_EVERY_S = 0.1
MEMORY_EVERY = 50
#: The process tree is listed again every FIND_EVERY-th sample (listing it reads every
#: process's /proc/<pid>/stat and command line, most of the sampling's cost);
#: a process that starts and ends between two listings (a worker lasts seconds) is missed.
FIND_EVERY = 10
#: The kinds of process in a run's tree (`kind`).
KINDS = ("runner", "forkserver", "worker", "kernel")


def kind(depth: int, proc: psutil.Process) -> str:
    """runner (depth 0, and helpers it starts), forkserver (imports papermill and nbconvert
    once), worker (forked by the forkserver; drives papermill and renders) or kernel (an ipykernel
    process). Forked processes keep the forkserver's command line, so the depth in the process
    tree tells them apart."""
    if any("ipykernel_launcher" in a for a in proc.cmdline()):
        return "kernel"
    if depth <= 1:
        forkserver = depth == 1 and any("forkserver" in a for a in proc.cmdline())
        return "forkserver" if forkserver else "runner"
    return "worker"


def memory(proc: psutil.Process) -> int:
    """Proportional set size (pages shared between forked processes are divided among them, so
    the tree's sum counts them once) from smaps_rollup, which is cheap to read; RSS elsewhere."""
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return proc.memory_info().rss


def tree(proc: psutil.Process) -> list[tuple[psutil.Process, str]]:
    """A process and all its descendants now, each with its kind (`kind`)."""
    procs = [proc, *proc.children(recursive=True)]
    parents = {}
    for p in procs[1:]:
        try:
            parents[p.pid] = p.ppid()
        except psutil.Error:
            continue
    found = []
    for p in procs:
        depth, pid = 0, p.pid
        while pid in parents:
            pid, depth = parents[pid], depth + 1
        try:
            found.append((p, kind(depth, p)))
        except psutil.Error:
            continue
    return found


def tree_sample(procs: list[tuple[psutil.Process, str]], cpu: dict[int, tuple[str, float]],
                with_memory: bool) -> int:
    """Memory of the processes now (0 for ones that vanished; 0 without `with_memory`); records
    each one's kind and CPU seconds so far in `cpu` (by pid)."""
    total = 0
    for p, what in procs:
        try:
            with p.oneshot():
                total += memory(p) if with_memory else 0
                times = p.cpu_times()
                cpu[p.pid] = (what, times.user + times.system)
        except psutil.Error:
            continue
    return total


def run_measured(argv: list[str]) -> tuple[int, float, dict[str, float], float, float, str]:
    """Run `argv`; (exit code, wall s, CPU s of the tree by process kind and of the sampling
    itself ("sampling", not the tree's), peak tree MiB, peak single process MiB,
    stdout+stderr)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watched = psutil.Process(child.pid)
    peak = [0]
    cpu: dict[int, tuple[str, float]] = {}
    done = threading.Event()
    sampling = [0.0]

    def sample() -> None:
        procs: list[tuple[psutil.Process, str]] = []
        for tick in itertools.count():
            sampling[0] = time.thread_time()
            if done.is_set():
                return
            try:
                if tick % FIND_EVERY == 0:
                    procs = tree(watched)
                peak[0] = max(peak[0], tree_sample(procs, cpu, tick % MEMORY_EVERY == 0))
            except psutil.Error:
                return
            done.wait(CPU_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.append(child.stdout.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    reader.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    # not os.wait4's figure for the runner: it includes the children it reaped (with --jobs 1,
    # the kernels), which are counted from their own samples
    by_kind = {k: sum(s for kk, s in cpu.values() if kk == k) for k in KINDS}
    return (child.returncode, wall, {**by_kind, "sampling": sampling[0]}, peak[0] / 2**20,
            usage.ru_maxrss / 1024, "".join(output))


def plain_argv(data: Path, out: Path, la: str) -> list[str]:
    """A shell command running the notebooks side by side with the papermill command line and
    its standard kernels, each followed by `jupyter nbconvert --to html --no-input`: what a
    council would run without `evalkit run` (exit 1 if any step failed)."""
    bin_dir = Path(sys.executable).parent
    q = shlex.quote
    steps = []
    for nb in sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        folder = out / nb.stem
        steps.append(
            f"(mkdir -p {q(str(folder))} && cd {q(str(folder))} && "
            f"{q(str(bin_dir / 'papermill'))} -k python3 --no-progress-bar {q(str(nb))} "
            f"{nb.stem}.ipynb -p data_dir {q(str(data))} -p la_code {q(la)} -p min_cell 5 "
            f"-p results_path {q(str(folder / 'results.json'))} && "
            f"{q(str(bin_dir / 'jupyter'))} nbconvert --to html --no-input {nb.stem}.ipynb) & "
            'pids="$pids $!"; ')
    return ["sh", "-c", "pids=''; " + "".join(steps)
            + "rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc"]


def bench_plain(profile: str, scale: float, la: str, work: Path) -> dict:
    """The council case run as `plain_argv` (on the data `bench_case` synthesised): wall s, CPU s
    of the whole tree and of the kernels, load average before and after."""
    data = work / f"{profile}-x{scale}" / "data"
    out = work / f"{profile}-x{scale}" / "plain"
    load_before = os.getloadavg()[0]
    code, wall, cpu, _, _, log = run_measured(plain_argv(data, out, la))
    if code:
        raise RuntimeError(f"plain papermill exited {code}:\n{log[-3000:]}")
    return {"wall": wall, "cpu": sum(cpu[k] for k in KINDS), "kernels": cpu["kernel"],
            "load": (load_before, os.getloadavg()[0])}


def split_notebook(council: Path, entry: dict) -> dict[str, object]:
    """Where one notebook's time went, from the manifest entry and papermill cell durations."""
    row: dict[str, object] = {"notebook": entry["notebook"], "status": entry["status"],
                              "total": entry["duration_s"], "render": entry["render_s"]}
    executed = entry["outputs"]["notebook"]
    cells = []
    if executed:
        nb = nbformat.read(council / executed, as_version=4)
        cells = [c for c in nb.cells if c.cell_type == "code"
                 and not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))]
    durations = [c.metadata.get("papermill", {}).get("duration") for c in cells]
    if not any(durations):  # the run gave the notebook stable metadata, without cell times
        return {**row, "kernel": math.nan, "setup": math.nan, "analysis": math.nan,
                "slowest": f"{entry['execute_s']:.1f} s executing; cell times not recorded"}
    durations = [d or 0.0 for d in durations]
    row["kernel"] = max(entry["execute_s"] - sum(durations), 0.0)
    row["setup"] = durations[0] if durations else 0.0
    row["analysis"] = sum(durations[1:])
    if len(durations) > 1:
        i = max(range(1, len(durations)), key=durations.__getitem__)
        first = next((ln for ln in cells[i].source.splitlines() if ln.strip()), "")
        row["slowest"] = f"{durations[i]:.1f} s: {first[:40]}"
    else:
        row["slowest"] = ""
    return row


def bench_case(name: str, profile: str, scale: float, extra: list[str], work: Path,
               jobs: int | None) -> tuple[list[dict], dict]:
    """Synthesise the case's data, run it once, and return per-notebook rows and the totals."""
    data = work / f"{profile}-x{scale}" / "data"
    if not (data / "truth.json").is_file():
        synthesise(data, profile=profile, scale=scale, seed=1)
    out = work / f"{profile}-x{scale}" / "reports"
    shutil.rmtree(out, ignore_errors=True)  # only this run's councils in the rows below
    load_before = os.getloadavg()[0]
    code, wall, cpu, peak_tree, peak_one, log = run_measured(
        [sys.executable, "-m", "evalkit.cli", "run", str(data), "--out", str(out),
         *(["--jobs", str(jobs)] if jobs else []), *extra])
    manifests = sorted(out.glob("*/manifest.json"))
    if not manifests:
        raise RuntimeError(f"{name}: evalkit run exited {code}, no manifest:\n{log[-3000:]}")
    rows = []
    for path in manifests:
        man = json.loads(path.read_text())
        rows += [split_notebook(path.parent, e) for e in man["notebooks"]]
    rows_read = sum(t["read"] for t in man["data"]["rows"].values())
    return rows, {"exit": code, "wall": wall, "cpu": cpu, "peak_tree": peak_tree,
                  "peak_one": peak_one, "rows": rows_read, "jobs": man["run"]["jobs"],
                  "load": (load_before, os.getloadavg()[0]),
                  "setup": setup_split(data, man["data"]["extract_date"])}


SETUP = """
import time
t = time.process_time()
import evalkit, evalkit.paths
from evalkit.analyses import outcomes, pa_market, uptake
from evalkit.report import style
imports = time.process_time() - t
import os, sys, tempfile, pandas as pd
from pathlib import Path
from evalkit.data import load as L
t = time.process_time()
d = L.load(sys.argv[1], extract_date=sys.argv[2])
fresh = time.process_time() - t
with tempfile.TemporaryDirectory() as tmp:
    L.save_cache(d, Path(sys.argv[1]), Path(tmp))
    os.environ[L.CACHE_ENV] = tmp
    t = time.process_time()
    L.load(sys.argv[1], extract_date=sys.argv[2])
    cached = time.process_time() - t
print(imports, fresh, cached)
"""


def setup_split(data: Path, extract_date: str) -> dict[str, float]:
    """CPU seconds of a notebook's first cell, split: importing every analysis module, validating
    the data (`evalkit.load` without the cache) and reading the runner's cache instead."""
    out = subprocess.run([sys.executable, "-c", SETUP, str(data), extract_date],
                         capture_output=True, text=True, check=True)
    imports, fresh, cached = map(float, out.stdout.split())
    return {"imports": imports, "validate": fresh, "cached": cached}


def council_codes(data: Path, n: int) -> list[str]:
    """`--la` arguments for the first `n` councils of `data` (all-councils when `n` is 0)."""
    if n == 0:
        return ["--la", "all-councils"]
    episodes = pd.read_parquet(data / "support_episodes.parquet", columns=["la_code"])
    return ["--la", *sorted(episodes["la_code"].astype(str).unique())[:n]]


def bench_councils(n: int, scale: float, work: Path, jobs: int | None) -> bool:
    """Run and print the every-council case (`--councils`): totals and per-notebook medians;
    True when every notebook succeeded."""
    data = work / f"england-x{scale}" / "data"
    if not (data / "truth.json").is_file():
        synthesise(data, profile="england", scale=scale, seed=1)
    name = f"councils (england, {n or 'all'})"
    rows, total = bench_case(name, "england", scale, council_codes(data, n), work, jobs)
    failed = sum(r["status"] != "succeeded" for r in rows)
    for stem in sorted({r["notebook"] for r in rows}):
        mine = [r for r in rows if r["notebook"] == stem]
        print(f"{name:<26}{stem:<16}{'median':<11}"
              + "".join(f"{statistics.median(r[k] for r in mine):>{w}.1f}"
                        for k, w in (("total", 7), ("kernel", 8), ("setup", 9),
                                     ("analysis", 9), ("render", 8)))
              + f"  {len(mine)} notebooks")
    print_total(name, total)
    print(f"{'':<26}{len(rows) - failed} of {len(rows)} notebooks succeeded\n")
    return total["exit"] == 0 and not failed


def print_total(name: str, total: dict) -> None:
    """The totals of one case: wall, CPU by process kind, memory, rows, first-cell split."""
    split = total["setup"]
    print(f"{name:<26}{'ALL (wall)':<16}{'exit ' + str(total['exit']):<11}"
          f"{total['wall']:>7.1f}   CPU {sum(total['cpu'][k] for k in KINDS):.1f} s (runner "
          f"{total['cpu']['runner']:.1f}, forkserver {total['cpu']['forkserver']:.1f}, "
          f"papermill+render workers {total['cpu']['worker']:.1f}, kernels "
          f"{total['cpu']['kernel']:.1f}; measuring it {total['cpu']['sampling']:.1f}), jobs "
          f"{total['jobs']}, load average {total['load'][0]:.1f} -> "
          f"{total['load'][1]:.1f}\n{'':<26}peak memory {total['peak_tree']:,.0f} "
          f"(process tree), {total['peak_one']:,.0f} (largest process); "
          f"{total['rows']:,} rows read\n{'':<26}first cell in a new Python, CPU: "
          f"imports {split['imports']:.1f} (paid by each notebook's kernel), "
          f"evalkit.load validating {split['validate']:.1f}, from the run's cache "
          f"{split['cached']:.1f}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None, help="folder for data and reports "
                        "(kept; reused data is not re-synthesised); default a temporary folder")
    parser.add_argument("--jobs", type=int, default=None,
                        help="evalkit run --jobs (default: evalkit run's default)")
    parser.add_argument("--council-only", action="store_true", help="skip the national case")
    parser.add_argument("--quick", action="store_true",
                        help=f"national at scale {QUICK_SCALE} instead of 1 (a smoke run)")
    parser.add_argument("--plain", action="store_true", help="also run the council case with "
                        "plain papermill (notebooks side by side) and nbconvert, for comparison")
    parser.add_argument("--councils", type=int, default=None, metavar="N",
                        help="also run the England profile's first N councils, each with its "
                             "own reports (0: --la all-councils)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_run_") as tmp:
        work = args.work or Path(tmp)
        print(f"machine: {machine()}")
        print(f"evalkit run --jobs {args.jobs or 'default'}; times in seconds (wall unless "
              "marked CPU), memory in MiB\n")
        head = (f"{'case':<26}{'notebook':<16}{'status':<11}{'total':>7}{'kernel':>8}"
                f"{'imp+load':>9}{'analysis':>9}{'render':>8}  slowest cell")
        print(head)
        print("-" * len(head))
        totals = {}
        for name, (profile, scale, extra) in CASES.items():
            if args.council_only and profile == "england":
                continue
            if args.quick and profile == "england":
                scale = QUICK_SCALE
            rows, total = bench_case(name, profile, scale, extra, work, args.jobs)
            totals[name] = total
            for r in rows:
                print(f"{name:<26}{r['notebook']:<16}{r['status'][:10]:<11}{r['total']:>7.1f}"
                      f"{r['kernel']:>8.1f}{r['setup']:>9.1f}{r['analysis']:>9.1f}"
                      f"{r['render']:>8.1f}  {r['slowest']}")
            print_total(name, total)
            if args.plain and profile == "leicester":
                plain = bench_plain(profile, scale, extra[1], work)
                print(f"{name:<26}{'plain papermill':<16}{'':<11}{plain['wall']:>7.1f}   CPU "
                      f"{plain['cpu']:.1f} s (kernels {plain['kernels']:.1f}); papermill command "
                      "line side by side, then nbconvert --no-input; load average "
                      f"{plain['load'][0]:.1f} -> {plain['load'][1]:.1f}\n")
        councils_ok = args.councils is None or bench_councils(
            args.councils, QUICK_SCALE if args.quick else 1.0, work, args.jobs)
        ok = councils_ok and all(t["exit"] == 0 for t in totals.values())
        if args.council_only:
            return 0 if ok else 1
        council, national = totals.values()
        print(f"growth council -> national: rows x{national['rows'] / council['rows']:.0f}, "
              f"wall x{national['wall'] / council['wall']:.1f}, "
              f"CPU x{sum(national['cpu'].values()) / sum(council['cpu'].values()):.1f}, "
              f"peak memory x{national['peak_tree'] / council['peak_tree']:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
